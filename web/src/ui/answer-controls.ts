/**
 * The controls of issue 14's "Answers" on a turn: its time, the version switcher of a regenerated answer
 * ("2 of 3"), and the inline editor of a sent message. Plain DOM from ./dom.ts; the turn element places them.
 */
import { h, icon } from "./dom";

const ICON = {
  edit: '<path d="M4 20h4L19 9l-4-4L4 16v4z"/><path d="m14 6 4 4"/>',
  continue: '<path d="M5 12h12"/><path d="m13 6 6 6-6 6"/>',
  previous: '<path d="m15 18-6-6 6-6"/>',
  next: '<path d="m9 18 6-6-6-6"/>',
} as const;

export { ICON as ANSWER_ICONS };

/** `<time datetime>` with the time of day (and the date when not today); the full date and time in its title. */
export function timeElement(iso: string, now = new Date()): HTMLTimeElement | null {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return null;
  const sameDay = at.toDateString() === now.toDateString();
  const clock = at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  const label = sameDay ? clock : `${at.toLocaleDateString(undefined, { month: "short", day: "numeric" })}, ${clock}`;
  return h("time", { class: "turn-time", datetime: at.toISOString(), title: at.toLocaleString() }, label);
}

/** "‹ 2 of 3 ›": switches between the versions of an answer; disabled while an answer is being written. */
export function versionSwitcher(version: { index: number; count: number }, disabled: boolean, onVersion: (index: number) => void): HTMLElement {
  const previous = h("button", { type: "button", class: "ghost small icon-only", "aria-label": "Previous version", disabled: disabled || version.index <= 1 }, icon(ICON.previous));
  const next = h("button", { type: "button", class: "ghost small icon-only", "aria-label": "Next version", disabled: disabled || version.index >= version.count }, icon(ICON.next));
  previous.addEventListener("click", () => onVersion(version.index - 1));
  next.addEventListener("click", () => onVersion(version.index + 1));
  return h(
    "div",
    { class: "versions", role: "group", "aria-label": "Versions of this answer" },
    previous,
    h("span", { class: "version-count", "aria-live": "polite" }, `${version.index} of ${version.count}`),
    next,
  );
}

/**
 * The editor of a sent message, in place of its bubble: Save sends the new text (the answers after it are
 * replaced), Cancel or Escape puts the message back. `onSave` answers a reason when the edit cannot be sent.
 */
export function messageEditor(text: string, onSave: (text: string) => string | null, onCancel: () => void): { root: HTMLElement; focus: () => void } {
  const input = h("textarea", { class: "edit-input", rows: Math.min(10, Math.max(2, text.split("\n").length)), "aria-label": "Edit your message" });
  input.value = text;
  const problem = h("p", { class: "error-text", role: "alert", hidden: true });
  const save = h("button", { type: "submit", class: "primary small" }, "Save and send");
  const cancel = h("button", { type: "button", class: "ghost small" }, "Cancel");
  const form = h(
    "form",
    { class: "edit-form", "aria-label": "Edit message" },
    input,
    h("p", { class: "muted small" }, "The answers after this message will be replaced."),
    problem,
    h("div", { class: "edit-actions" }, cancel, save),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = onSave(input.value);
    problem.hidden = reason === null;
    problem.textContent = reason ?? "";
  });
  cancel.addEventListener("click", onCancel);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      // Escape closes the editor only (it does not also stop an answer).
      event.preventDefault();
      event.stopPropagation();
      onCancel();
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  return {
    root: form,
    focus: () => {
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    },
  };
}
