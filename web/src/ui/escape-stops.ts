/**
 * Escape stops the answer being written, as in peer chat pages, when focus is in the page: not while a dialog is
 * open (Escape closes the dialog) and not when something else already used the key (the message editor, the
 * sidebar on a phone, a menu), which marks the event handled or stops it first.
 */
export interface EscapeStopsOptions {
  controller: { readonly isGenerating: boolean; stop(): void };
  announce: (words: string) => void;
  signal: AbortSignal;
}

export function stopOnEscape({ controller, announce, signal }: EscapeStopsOptions): void {
  // What was open when the key went down, read before any handler closes it (capture runs first).
  let closable = false;
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.key === "Escape") closable = document.querySelector("dialog[open], [aria-modal='true'], .layout.sidebar-open") !== null;
    },
    { signal, capture: true },
  );
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.key !== "Escape" || event.defaultPrevented || event.isComposing || !controller.isGenerating || closable) return;
      event.preventDefault();
      controller.stop();
      announce("Stopping the answer.");
    },
    { signal },
  );
}
