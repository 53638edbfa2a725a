import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";

/**
 * A native modal <dialog>: the browser gives it role dialog, traps focus,
 * makes the page behind inert and closes it on Escape.
 */
export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const el = ref.current;
    if (el && !el.open) el.showModal();
    const closed = () => props.onClose();
    el?.addEventListener("close", closed);
    return () => el?.removeEventListener("close", closed);
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
