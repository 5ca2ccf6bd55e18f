/**
 * A confirmation as a modal `<dialog>` (showModal: the rest of the page is inert, focus stays inside, Escape
 * cancels), named by its heading and described by its text. Cancel has the focus first: the safe choice is the
 * default one. Focus returns to where it was when the dialog closes.
 */
import { h } from "./dom";

export interface Confirmation {
  title: string;
  body: string;
  confirm: string;
  /** Styles the confirm button as destructive. */
  danger?: boolean;
}

let count = 0;

export function confirmDialog(options: Confirmation): Promise<boolean> {
  const id = `confirm-${++count}`;
  const cancel = h("button", { type: "button", class: "ghost", autofocus: true }, "Cancel");
  const confirm = h("button", { type: "button", class: options.danger ? "primary danger" : "primary" }, options.confirm);
  const dialog = h(
    "dialog",
    { class: "confirm", "aria-labelledby": `${id}-title`, "aria-describedby": `${id}-body` },
    h("h2", { id: `${id}-title` }, options.title),
    h("p", { id: `${id}-body` }, options.body),
    h("div", { class: "confirm-actions" }, cancel, confirm),
  );
  const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  document.body.append(dialog);
  return new Promise((resolve) => {
    const close = (answer: boolean) => {
      if (!dialog.open) return;
      dialog.close();
      dialog.remove();
      if (returnTo?.isConnected) returnTo.focus();
      resolve(answer);
    };
    cancel.addEventListener("click", () => close(false));
    confirm.addEventListener("click", () => close(true));
    // Escape: the browser fires `cancel` on a modal dialog.
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      close(false);
    });
    dialog.showModal();
    cancel.focus();
  });
}
