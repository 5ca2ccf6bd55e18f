/**
 * The message box: Enter sends, Shift+Enter starts a new line (and Enter while composing with an input method
 * does neither); the Send button turns into Stop while an answer is being generated.
 */
import { h, icon, ICONS } from "./dom";

export interface ComposerHandlers {
  /** Returns a reason when the text was not sent (it stays in the box), or null. */
  onSend: (text: string) => string | null;
  onStop: () => void;
}

export class Composer {
  readonly root: HTMLFormElement;
  readonly input: HTMLTextAreaElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly stopButton: HTMLButtonElement;
  private readonly hint: HTMLElement;
  private generating = false;

  constructor(private readonly handlers: ComposerHandlers, footnote: string) {
    this.input = h("textarea", { id: "message", name: "message", rows: 1, placeholder: "Message", autocomplete: "off", enterkeyhint: "send", "aria-describedby": "composer-hint" });
    this.sendButton = h("button", { type: "submit", class: "send", "aria-label": "Send", title: "Send (Enter)" }, icon(ICONS.send));
    this.stopButton = h("button", { type: "button", class: "stop", "aria-label": "Stop", title: "Stop generating", hidden: true }, icon(ICONS.stop));
    this.hint = h("p", { class: "composer-hint", id: "composer-hint" }, footnote);
    this.root = h(
      "form",
      { class: "composer", "aria-label": "Send a message" },
      h("div", { class: "composer-box" }, h("label", { for: "message", class: "sr-only" }, "Message"), this.input, this.sendButton, this.stopButton),
      this.hint,
    );
    this.root.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => {
      this.resize();
      this.hint.textContent = footnote;
      this.hint.classList.remove("error-text");
    });
    this.stopButton.addEventListener("click", () => handlers.onStop());
    this.updateButtons();
  }

  setGenerating(generating: boolean): void {
    if (this.generating === generating) return;
    const hadFocus = document.activeElement === this.stopButton || document.activeElement === this.sendButton;
    this.generating = generating;
    this.updateButtons();
    // Keep keyboard users where they were: focus moves between Send and Stop as they swap.
    if (hadFocus) (generating ? this.stopButton : this.input).focus();
  }

  setText(text: string): void {
    this.input.value = text;
    this.resize();
    this.input.focus();
  }

  /** Puts a refused message back, unless the user has started typing another one. */
  restoreDraft(text: string): void {
    if (this.input.value.trim() !== "") return;
    this.input.value = text;
    this.resize();
  }

  private submit(): void {
    if (this.generating) return;
    const reason = this.handlers.onSend(this.input.value);
    if (reason === null) {
      this.input.value = "";
      this.resize();
    } else {
      this.hint.textContent = reason;
      this.hint.classList.add("error-text");
    }
  }

  private updateButtons(): void {
    this.sendButton.hidden = this.generating;
    this.stopButton.hidden = !this.generating;
  }

  private resize(): void {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 240)}px`;
  }
}
