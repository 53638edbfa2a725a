import { useEffect, useState } from "preact/hooks";
import { authorizeClient } from "../api.js";
import { Note } from "../components/dialog.js";
import { describeProblem } from "../errors.js";
import { type Identity, identify } from "../session.js";

/** The admin key typed into a form; checked with keyward before anything is kept. */
export function SignIn(props: {
  remembered: string | null;
  reason: string | null;
  onSignedIn: (key: string, identity: Identity) => void;
  onForget: () => void;
}) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const attempt = async (candidate: string, remembered: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const who = await identify(authorizeClient(), candidate);
      if ("refused" in who) {
        if (remembered) props.onForget();
        setError(`${remembered ? "You were signed out" : "Cannot sign in"}: ${who.refused}.`);
      } else props.onSignedIn(candidate, who);
    } catch (err) {
      setError(describeProblem(err).message);
    } finally {
      setBusy(false);
    }
  };
  // A reload keeps the tab's session: sign in again with the key sessionStorage holds.
  useEffect(() => {
    if (props.remembered && !props.reason) void attempt(props.remembered, true);
  }, []);
  return (
    <main class="sign-in">
      <h1>keyward console</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim()) void attempt(key.trim(), false);
          else
            setError(
              "Admin key: paste an admin key (one holding keyward:read, keyward:write or keyward:all).",
            );
        }}
      >
        <Note text={props.reason} />
        <Note text={error} />
        <label for="admin-key">Admin key</label>
        <input
          id="admin-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <p class="hint">
          Kept in this tab's session storage only, until you sign out or close the tab.
        </p>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
