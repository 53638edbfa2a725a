import { useState } from "preact/hooks";
import type { ApiKey } from "../../../gen/keyward/v1/key_admin_pb.js";
import { Dialog, Note } from "../components/dialog.js";
import { ScopePicker } from "../components/scope-picker.js";
import { useConsole } from "../context.js";
import { domainsFrom, type ExpiryChoice, expiryFrom } from "../format.js";
import { ExpiryField, useCatalog } from "./create-key.js";

function useAction() {
  const { problem } = useConsole();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(problem(err));
    } finally {
      setBusy(false);
    }
  };
  return { error, setError, busy, run };
}

/** Dialog "Edit key": UpdateKey with a mask naming only what changed. */
export function EditKeyDialog(props: {
  apiKey: ApiKey;
  onClose: () => void;
  onSaved: (k: ApiKey) => void;
}) {
  const { admin, identity } = useConsole();
  const { catalog, error: catalogError } = useCatalog();
  const k = props.apiKey;
  const [name, setName] = useState(k.name);
  const [scopes, setScopes] = useState(new Set(k.scopes));
  const [domains, setDomains] = useState(k.allowedDomains.join(", "));
  const [choice, setChoice] = useState<ExpiryChoice | "keep">("keep");
  const [date, setDate] = useState("");
  const action = useAction();
  const save = (e: Event) => {
    e.preventDefault();
    const paths: string[] = [];
    if (name.trim() !== k.name) paths.push("name");
    if ([...scopes].sort().join() !== [...k.scopes].sort().join()) paths.push("scopes");
    if (domainsFrom(domains).join() !== k.allowedDomains.join()) paths.push("allowed_domains");
    const expiry =
      choice === "keep" ? { expiresAt: k.expiresAt } : expiryFrom(choice, date, new Date());
    if ("error" in expiry) return action.setError(expiry.error);
    if (choice !== "keep") paths.push("expires_at");
    if (paths.length === 0) return props.onClose();
    void action.run(async () => {
      const res = await admin.updateKey({
        apiKey: {
          id: k.id,
          name: name.trim(),
          scopes: [...scopes],
          allowedDomains: domainsFrom(domains),
          expiresAt: expiry.expiresAt,
        },
        updateMask: { paths },
      });
      if (res.apiKey) props.onSaved(res.apiKey);
    });
  };
  return (
    <Dialog title="Edit key" onClose={props.onClose} wide>
      <form onSubmit={save} noValidate>
        <div class="field">
          <label for="edit-name">Name</label>
          <input
            id="edit-name"
            type="text"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </div>
        <Note text={catalogError} />
        <ScopePicker
          catalog={catalog}
          selected={scopes}
          onChange={setScopes}
          adminScopes={identity.isRoot || identity.scopes.includes("keyward:all")}
        />
        <div class="field">
          <label for="edit-domains">Allowed domains</label>
          <input
            id="edit-domains"
            type="text"
            value={domains}
            onInput={(e) => setDomains(e.currentTarget.value)}
          />
        </div>
        <label class="check">
          <input
            type="checkbox"
            checked={choice !== "keep"}
            onChange={(e) => setChoice(e.currentTarget.checked ? "never" : "keep")}
          />{" "}
          Change the expiry
        </label>
        {choice !== "keep" && (
          <ExpiryField choice={choice} date={date} onChoice={setChoice} onDate={setDate} />
        )}
        <Note text={action.error} />
        <div class="actions">
          <button type="button" class="secondary" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" disabled={action.busy}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}

const GRACE = [
  { label: "None: the old key stops now", seconds: 0 },
  { label: "1 hour", seconds: 3600 },
  { label: "24 hours", seconds: 86_400 },
  { label: "7 days", seconds: 7 * 86_400 },
];

/** Dialog "Rotate key": a new secret with the same settings; the old key works for the grace period. */
export function RotateKeyDialog(props: {
  apiKey: ApiKey;
  onClose: () => void;
  onRotated: (secret: string, k: ApiKey) => void;
}) {
  const { admin } = useConsole();
  const [grace, setGrace] = useState(86_400);
  const action = useAction();
  const rotate = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const res = await admin.rotateKey({
        id: props.apiKey.id,
        gracePeriod: { seconds: BigInt(grace), nanos: 0 },
      });
      if (res.apiKey) props.onRotated(res.key, res.apiKey);
    });
  };
  return (
    <Dialog title="Rotate key" onClose={props.onClose}>
      <form onSubmit={rotate}>
        <p>
          keyward issues a new secret with the same name, scopes, domains and expiry. Callers still
          using the old secret keep working for the grace period, then are refused.
        </p>
        <div class="field">
          <label for="grace">Grace period</label>
          <select
            id="grace"
            value={grace}
            onChange={(e) => setGrace(Number(e.currentTarget.value))}
          >
            {GRACE.map((g) => (
              <option key={g.seconds} value={g.seconds}>
                {g.label}
              </option>
            ))}
          </select>
        </div>
        <Note text={action.error} />
        <div class="actions">
          <button type="button" class="secondary" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" disabled={action.busy}>
            Rotate key
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Dialog "Revoke key": immediate and irreversible, so the key's name must be typed, as GitHub asks. */
export function RevokeKeyDialog(props: {
  apiKey: ApiKey;
  onClose: () => void;
  onRevoked: (k: ApiKey) => void;
}) {
  const { admin } = useConsole();
  const [typed, setTyped] = useState("");
  const [reason, setReason] = useState("");
  const action = useAction();
  const matches = typed === props.apiKey.name;
  const revoke = (e: Event) => {
    e.preventDefault();
    if (!matches) return action.setError(`Key name: type ${props.apiKey.name} exactly to confirm.`);
    void action.run(async () => {
      const res = await admin.revokeKey({
        id: props.apiKey.id,
        reason: reason.trim() || "revoked in the console",
      });
      if (res.apiKey) props.onRevoked(res.apiKey);
    });
  };
  return (
    <Dialog title="Revoke key" onClose={props.onClose}>
      <form onSubmit={revoke}>
        <p>
          Every call with this key is refused from now on. This cannot be undone. Type{" "}
          <strong>{props.apiKey.name}</strong> to confirm.
        </p>
        <div class="field">
          <label for="revoke-name">Key name</label>
          <input
            id="revoke-name"
            type="text"
            autocomplete="off"
            value={typed}
            onInput={(e) => setTyped(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="revoke-reason">Reason (optional)</label>
          <input
            id="revoke-reason"
            type="text"
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
        </div>
        <Note text={action.error} />
        <div class="actions">
          <button type="button" class="secondary" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="danger" disabled={!matches || action.busy}>
            Revoke key
          </button>
        </div>
      </form>
    </Dialog>
  );
}
