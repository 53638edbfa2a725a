import { useState } from "preact/hooks";
import { Dialog, Note } from "./dialog.js";

/**
 * The secret, shown once. It lives only in the caller's component state: never
 * written to any storage, and gone from the page once "I have stored it" closes this.
 */
export function CopyKeyDialog(props: { secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.secret);
      setCopied("Copied to the clipboard.");
    } catch {
      setCopied("The browser refused the clipboard: select the key and copy it by hand.");
    }
  };
  return (
    <Dialog title="Copy your key" onClose={props.onDone} dismissible={false}>
      <p>
        This is the only time keyward shows this key. Store it in your secret manager now: it cannot
        be recovered, only rotated.
      </p>
      <label for="secret-key">Secret key</label>
      <input
        id="secret-key"
        class="secret"
        type="text"
        readOnly
        value={props.secret}
        autocomplete="off"
        spellcheck={false}
        onFocus={(e) => e.currentTarget.select()}
      />
      <Note text={copied} kind="info" />
      <div class="actions">
        <button type="button" class="secondary" onClick={copy}>
          Copy
        </button>
        <button type="button" onClick={props.onDone}>
          I have stored it
        </button>
      </div>
    </Dialog>
  );
}
