import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useEffect, useState } from "preact/hooks";
import { type ApiKey, KeyStatus } from "../../../gen/keyward/v1/key_admin_pb.js";
import { type GetKeyUsageResponse, UsageGranularity } from "../../../gen/keyward/v1/usage_pb.js";
import { Dialog, Note } from "../components/dialog.js";
import { UsageChart } from "../components/usage-chart.js";
import { useConsole } from "../context.js";
import { countText, when } from "../format.js";

const RANGES = [
  { value: "24h", label: "Last 24 hours", hours: 24, granularity: UsageGranularity.HOUR },
  { value: "7d", label: "Last 7 days", hours: 7 * 24, granularity: UsageGranularity.DAY },
  { value: "30d", label: "Last 30 days", hours: 30 * 24, granularity: UsageGranularity.DAY },
];

/** GetKeyUsage: the chart and its table, scopes used vs held with the suggestion, domains seen. */
export function UsageSection(props: { apiKey: ApiKey; onScopesApplied: (k: ApiKey) => void }) {
  const { admin, problem } = useConsole();
  const [range, setRange] = useState("24h");
  const [usage, setUsage] = useState<GetKeyUsageResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [refresh, setRefresh] = useState(0);
  useEffect(() => {
    const r = RANGES.find((x) => x.value === range) ?? RANGES[0]!;
    const end = new Date();
    setError(null);
    admin
      .getKeyUsage({
        id: props.apiKey.id,
        startTime: timestampFromDate(new Date(end.getTime() - r.hours * 3_600_000)),
        endTime: timestampFromDate(end),
        granularity: r.granularity,
      })
      .then(setUsage, (e) => {
        setUsage(null);
        setError(problem(e));
      });
  }, [admin, props.apiKey.id, range, refresh]);
  return (
    <section aria-labelledby="usage-h">
      <div class="title-row">
        <h2 id="usage-h">Usage</h2>
        <div class="filters">
          <label for="usage-range">Range</label>
          <select id="usage-range" value={range} onChange={(e) => setRange(e.currentTarget.value)}>
            {RANGES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
          <button type="button" class="secondary" onClick={() => setRefresh((n) => n + 1)}>
            Refresh usage
          </button>
        </div>
      </div>
      <Note text={error} />
      {usage && (
        <>
          <p class="totals">
            <span>
              Allowed calls: <strong>{countText(usage.allowed)}</strong>
            </span>{" "}
            <span>
              Denied calls: <strong>{countText(usage.denied)}</strong>
            </span>
            {Object.entries(usage.deniedByReason).map(([reason, n]) => (
              <span key={reason} class="sub">
                {" "}
                {reason}: {countText(n)}
              </span>
            ))}
          </p>
          <UsageChart buckets={usage.buckets} />
          <BucketTable usage={usage} />
          <ScopesUsed apiKey={props.apiKey} usage={usage} onApplied={props.onScopesApplied} />
          <DomainsSeen usage={usage} />
        </>
      )}
    </section>
  );
}

function BucketTable({ usage }: { usage: GetKeyUsageResponse }) {
  const rows = usage.buckets.filter((b) => b.allowed > 0n || b.denied > 0n);
  return (
    <details class="table-alt">
      <summary>Usage as a table</summary>
      <table aria-label="Usage over time">
        <thead>
          <tr>
            <th scope="col">Period starting</th>
            <th scope="col">Allowed</th>
            <th scope="col">Denied</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((b) => (
            <tr key={String(b.startTime?.seconds)}>
              <td>{when(b.startTime)}</td>
              <td>{countText(b.allowed)}</td>
              <td>{countText(b.denied)}</td>
            </tr>
          ))}
          {rows.length === 0 && (
            <tr>
              <td colSpan={3}>No calls in this range.</td>
            </tr>
          )}
        </tbody>
      </table>
    </details>
  );
}

/** Held scopes and the scopes calls needed, side by side, with the narrowest set that covers the calls. */
function ScopesUsed(props: {
  apiKey: ApiKey;
  usage: GetKeyUsageResponse;
  onApplied: (k: ApiKey) => void;
}) {
  const { identity } = useConsole();
  const [confirming, setConfirming] = useState(false);
  const { apiKey, usage } = props;
  const unused = new Set(usage.unusedScopes);
  const suggested = usage.suggestedScopes;
  const differs =
    suggested.length > 0 && [...suggested].sort().join() !== [...apiKey.scopes].sort().join();
  return (
    <section aria-labelledby="scopes-h">
      <h3 id="scopes-h">Scopes used vs held</h3>
      <div class="table-wrap">
        <table aria-label="Scopes used">
          <thead>
            <tr>
              <th scope="col">Scope needed by calls</th>
              <th scope="col">Allowed</th>
              <th scope="col">Denied</th>
              <th scope="col">Last used</th>
              <th scope="col">Granted by</th>
            </tr>
          </thead>
          <tbody>
            {usage.scopes.map((s) => (
              <tr key={s.scope}>
                <td>
                  <code>{s.scope}</code>
                </td>
                <td>{countText(s.allowed)}</td>
                <td>{countText(s.denied)}</td>
                <td>{when(s.lastUsedAt, "never")}</td>
                <td>{s.grantedBy || "not held"}</td>
              </tr>
            ))}
            {usage.scopes.length === 0 && (
              <tr>
                <td colSpan={5}>No scope was asked for in this range.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <ul class="held" aria-label="Scopes held">
        {apiKey.scopes.map((s) => (
          <li key={s}>
            <code>{s}</code>{" "}
            {unused.has(s) ? (
              <span class="status s-unused">unused in this range</span>
            ) : (
              <span class="status s-active">used</span>
            )}
          </li>
        ))}
      </ul>
      {differs && (
        <p>
          Suggested scopes: <code>{suggested.join(", ")}</code>{" "}
          {identity.canWrite && apiKey.status === KeyStatus.ACTIVE && !apiKey.successorId && (
            <button type="button" onClick={() => setConfirming(true)}>
              Apply suggestion
            </button>
          )}
        </p>
      )}
      {confirming && (
        <ApplySuggestionDialog
          apiKey={apiKey}
          suggested={suggested}
          onClose={() => setConfirming(false)}
          onApplied={(k) => {
            setConfirming(false);
            props.onApplied(k);
          }}
        />
      )}
    </section>
  );
}

function ApplySuggestionDialog(props: {
  apiKey: ApiKey;
  suggested: string[];
  onClose: () => void;
  onApplied: (k: ApiKey) => void;
}) {
  const { admin, problem } = useConsole();
  const [error, setError] = useState<string | null>(null);
  const removed = props.apiKey.scopes.filter((s) => !props.suggested.includes(s));
  const added = props.suggested.filter((s) => !props.apiKey.scopes.includes(s));
  const apply = async () => {
    try {
      const res = await admin.updateKey({
        apiKey: { id: props.apiKey.id, scopes: props.suggested },
        updateMask: { paths: ["scopes"] },
      });
      if (res.apiKey) props.onApplied(res.apiKey);
    } catch (err) {
      setError(problem(err));
    }
  };
  return (
    <Dialog title="Apply suggestion" onClose={props.onClose}>
      <p>
        The key's scopes become <code>{props.suggested.join(", ")}</code>. Calls needing a removed
        scope will be refused (SCOPE_MISSING).
      </p>
      {removed.length > 0 && <p>Removed: {removed.join(", ")}</p>}
      {added.length > 0 && <p>Added: {added.join(", ")}</p>}
      <Note text={error} />
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onClose}>
          Cancel
        </button>
        <button type="button" onClick={apply}>
          Apply
        </button>
      </div>
    </Dialog>
  );
}

function DomainsSeen({ usage }: { usage: GetKeyUsageResponse }) {
  return (
    <section aria-labelledby="domains-h">
      <h3 id="domains-h">Domains seen</h3>
      <div class="table-wrap">
        <table aria-label="Domains seen">
          <thead>
            <tr>
              <th scope="col">Domain</th>
              <th scope="col">Calls</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {usage.domains.map((d) => (
              <tr key={d.domain}>
                <td>{d.domain}</td>
                <td>{countText(d.calls)}</td>
                <td>{when(d.lastSeenAt)}</td>
              </tr>
            ))}
            {usage.domains.length === 0 && (
              <tr>
                <td colSpan={3}>No call named a domain in this range.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
