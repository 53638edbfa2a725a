import type { ComponentChildren } from "preact";
import { useId, useLayoutEffect, useRef } from "preact/hooks";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

/**
 * Tab past the last control wraps to the first and Shift+Tab back: a native
 * modal makes the page inert, but Tab still leaves it for the browser's own UI.
 */
function trapTab(e: KeyboardEvent, dialog: HTMLDialogElement): void {
  if (e.key !== "Tab") return;
  const stops = [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (el) => el.getClientRects().length > 0,
  );
  const first = stops[0];
  const last = stops[stops.length - 1];
  if (!first || !last) return;
  const at = document.activeElement;
  if (e.shiftKey && (at === first || at === dialog)) last.focus();
  else if (!e.shiftKey && at === last) first.focus();
  else return;
  e.preventDefault();
}

/**
 * A native modal <dialog>: the browser gives it role dialog, makes the page
 * behind inert and focuses its first control. On top: Tab stays inside, and
 * focus goes back to what opened it. `dismissible={false}` ignores Escape, for
 * a dialog whose content is lost on close (the secret shown once).
 */
export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
  dismissible?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  // A layout effect: its cleanup runs before the element leaves the page (Preact 11 defers useEffect's), so focus goes straight back.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const opener = document.activeElement;
    if (!el.open) el.showModal();
    const closed = () => props.onClose();
    const keys = (e: KeyboardEvent) => {
      if (e.key === "Escape" && props.dismissible === false) e.preventDefault();
      trapTab(e, el);
    };
    const cancel = (e: Event) => props.dismissible === false && e.preventDefault();
    el.addEventListener("close", closed);
    el.addEventListener("cancel", cancel);
    el.addEventListener("keydown", keys);
    return () => {
      el.removeEventListener("close", closed);
      el.removeEventListener("cancel", cancel);
      el.removeEventListener("keydown", keys);
      // Unmounted while still open (a state change, not Escape): the page stays inert until it closes.
      if (el.open) el.close();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={titleId} class={props.wide ? "wide" : undefined}>
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
    </dialog>
  );
}

/** An error or a note, announced to screen readers when it appears. */
export function Note(props: { text: string | null; kind?: "error" | "info" }) {
  if (!props.text) return null;
  return (
    <p class={`note ${props.kind ?? "error"}`} role={props.kind === "info" ? "status" : "alert"}>
      {props.text}
    </p>
  );
}
