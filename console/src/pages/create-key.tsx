import { useEffect, useState } from "preact/hooks";
import { type ApiKey, Environment, type Scope } from "../../../gen/keyward/v1/key_admin_pb.js";
import { Dialog, Note } from "../components/dialog.js";
import { ScopePicker } from "../components/scope-picker.js";
import { useConsole } from "../context.js";
import { domainsFrom, EXPIRY_PRESETS, type ExpiryChoice, expiryFrom } from "../format.js";

export function useCatalog(): { catalog: Scope[]; error: string | null } {
  const { admin, problem } = useConsole();
  const [catalog, setCatalog] = useState<Scope[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    admin.listScopes({}).then(
      (r) => setCatalog(r.scopes),
      (e) => setError(problem(e)),
    );
  }, [admin]);
  return { catalog, error };
}

/** Expiry choice and, for "A date…", the date; shared by create and edit. */
export function ExpiryField(props: {
  choice: ExpiryChoice;
  date: string;
  onChoice: (c: ExpiryChoice) => void;
  onDate: (d: string) => void;
}) {
  return (
    <div class="field">
      <label for="expires">Expires</label>
      <select
        id="expires"
        value={props.choice}
        onChange={(e) => props.onChoice(e.currentTarget.value as ExpiryChoice)}
      >
        {EXPIRY_PRESETS.map((p) => (
          <option key={p.value} value={p.value}>
            {p.label}
          </option>
        ))}
      </select>
      {props.choice === "date" && (
        <>
          <label for="expiry-date">Expiry date</label>
          <input
            id="expiry-date"
            type="date"
            value={props.date}
            onInput={(e) => props.onDate(e.currentTarget.value)}
          />
        </>
      )}
    </div>
  );
}

/** Dialog "Create key": CreateKey, then the secret goes to the caller for the copy dialog. */
export function CreateKeyDialog(props: {
  onClose: () => void;
  onCreated: (secret: string, key: ApiKey) => void;
}) {
  const { admin, identity, workspace, problem } = useConsole();
  const { catalog, error: catalogError } = useCatalog();
  const [name, setName] = useState("");
  const [target, setTarget] = useState(workspace);
  const [scopes, setScopes] = useState<Set<string>>(new Set());
  const [domains, setDomains] = useState("");
  const [choice, setChoice] = useState<ExpiryChoice>("never");
  const [date, setDate] = useState("");
  const [env, setEnv] = useState<"live" | "test">("live");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name.trim())
      return setError('Name: give the key a name people will recognise (e.g. "billing worker").');
    if (identity.isRoot && !target.trim())
      return setError("Workspace: name the workspace the key belongs to.");
    if (scopes.size === 0) return setError("Scopes: pick at least one scope.");
    const expiry = expiryFrom(choice, date, new Date());
    if ("error" in expiry) return setError(expiry.error);
    setBusy(true);
    try {
      const res = await admin.createKey({
        name: name.trim(),
        workspace: identity.isRoot ? target.trim() : "",
        scopes: [...scopes],
        allowedDomains: domainsFrom(domains),
        expiresAt: expiry.expiresAt,
        environment: env === "test" ? Environment.TEST : Environment.LIVE,
      });
      if (res.apiKey) props.onCreated(res.key, res.apiKey);
    } catch (err) {
      setError(problem(err));
    } finally {
      setBusy(false);
    }
  };
  const grantsAdmin = identity.scopes.includes("keyward:all") || identity.isRoot;
  return (
    <Dialog title="Create key" onClose={props.onClose} wide>
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="key-name">Name</label>
          <input
            id="key-name"
            type="text"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            autocomplete="off"
          />
        </div>
        {identity.isRoot && (
          <div class="field">
            <label for="key-workspace">Workspace</label>
            <input
              id="key-workspace"
              type="text"
              value={target}
              onInput={(e) => setTarget(e.currentTarget.value)}
              autocomplete="off"
            />
          </div>
        )}
        <div class="field">
          <label for="key-env">Environment</label>
          <select
            id="key-env"
            value={env}
            onChange={(e) => setEnv(e.currentTarget.value as "live" | "test")}
          >
            <option value="live">live</option>
            <option value="test">test</option>
          </select>
        </div>
        <Note text={catalogError} />
        <ScopePicker
          catalog={catalog}
          selected={scopes}
          onChange={setScopes}
          adminScopes={grantsAdmin}
        />
        <div class="field">
          <label for="key-domains">Allowed domains</label>
          <input
            id="key-domains"
            type="text"
            placeholder="empty: any domain; e.g. app.example.com, *.example.com"
            value={domains}
            onInput={(e) => setDomains(e.currentTarget.value)}
          />
        </div>
        <ExpiryField choice={choice} date={date} onChoice={setChoice} onDate={setDate} />
        <Note text={error} />
        <div class="actions">
          <button type="button" class="secondary" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}
