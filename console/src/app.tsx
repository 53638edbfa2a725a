import { useCallback, useMemo, useState } from "preact/hooks";
import { adminClient } from "./api.js";

import { type ConsoleContext, Ctx } from "./context.js";
import { describeProblem } from "./errors.js";
import { AuditPage } from "./pages/audit.js";
import { FindingsPage } from "./pages/findings.js";
import { KeyPage } from "./pages/key.js";
import { KeysPage } from "./pages/keys.js";
import { SignIn } from "./pages/sign-in.js";
import { useRoute } from "./route.js";
import { forgetAdminKey, type Identity, storeAdminKey, storedAdminKey } from "./session.js";

interface Session {
  adminKey: string;
  identity: Identity;
}

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [signedOutWhy, setSignedOutWhy] = useState<string | null>(null);
  const signOut = useCallback((why: string | null) => {
    forgetAdminKey();
    setSession(null);
    setSignedOutWhy(why);
  }, []);
  if (!session) {
    return (
      <SignIn
        remembered={storedAdminKey()}
        reason={signedOutWhy}
        onSignedIn={(adminKey, identity) => {
          storeAdminKey(adminKey);
          setSignedOutWhy(null);
          setSession({ adminKey, identity });
        }}
        onForget={forgetAdminKey}
      />
    );
  }
  return <SignedIn session={session} signOut={signOut} />;
}

function SignedIn({
  session,
  signOut,
}: {
  session: Session;
  signOut: (why: string | null) => void;
}) {
  const route = useRoute();
  const { identity } = session;
  const [workspace, setWorkspace] = useState(identity.isRoot ? "" : identity.workspace);
  const admin = useMemo(() => adminClient(session.adminKey), [session.adminKey]);
  const ctx: ConsoleContext = useMemo(
    () => ({
      admin,
      identity,
      workspace,
      problem: (err: unknown) => {
        const p = describeProblem(err);
        if (p.kind === "signed-out") signOut(p.message);
        return p.message;
      },
    }),
    [admin, identity, workspace],
  );
  const current = (page: string) =>
    route.page === page || (page === "keys" && route.page === "key") ? "page" : undefined;
  return (
    <Ctx.Provider value={ctx}>
      <header class="top">
        <span class="brand">keyward</span>
        <nav aria-label="Console">
          <a href="#/keys" aria-current={current("keys")}>
            Keys
          </a>
          <a href="#/findings" aria-current={current("findings")}>
            Findings
          </a>
          <a href="#/audit" aria-current={current("audit")}>
            Audit log
          </a>
        </nav>
        <WorkspacePicker identity={identity} workspace={workspace} onChange={setWorkspace} />
        <button type="button" class="secondary" onClick={() => signOut(null)}>
          Sign out
        </button>
      </header>
      <main>
        {route.page === "keys" && <KeysPage />}
        {route.page === "key" && <KeyPage id={route.id} />}
        {route.page === "findings" && <FindingsPage />}
        {route.page === "audit" && <AuditPage />}
      </main>
    </Ctx.Provider>
  );
}

/** A root admin acts in every workspace and picks one to look at; a workspace admin sees its own, fixed. */
function WorkspacePicker(props: {
  identity: Identity;
  workspace: string;
  onChange: (w: string) => void;
}) {
  const [draft, setDraft] = useState(props.workspace);
  if (!props.identity.isRoot)
    return <span class="workspace">Workspace: {props.identity.workspace}</span>;
  return (
    <form
      class="workspace"
      onSubmit={(e) => {
        e.preventDefault();
        props.onChange(draft.trim());
      }}
    >
      <label for="current-workspace">Current workspace</label>
      <input
        id="current-workspace"
        type="search"
        placeholder="all workspaces"
        value={draft}
        onInput={(e) => setDraft(e.currentTarget.value)}
      />
      <button type="submit" class="secondary">
        Show
      </button>
    </form>
  );
}
