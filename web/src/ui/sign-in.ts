/** The sign-in screen: the hosted Cognito sign-in, or the local stack's dev sign-in (clearly labelled). */
import { h } from "./dom";

export function localSignIn(onSignIn: (name: string) => Promise<string | null>, emulator: boolean): HTMLElement {
  const input = h("input", { id: "user-name", name: "user", autocomplete: "username", required: true, value: "", spellcheck: "false" });
  const error = h("p", { class: "error-text", role: "alert" });
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    { class: "card sign-in", "aria-labelledby": "sign-in-title" },
    h("div", { class: "brand big" }, h("span", { class: "logo", "aria-hidden": "true" }), "Chat"),
    h("h1", { id: "sign-in-title" }, "Local sign-in"),
    h("p", { class: "tag local" }, "Local development only"),
    h(
      "p",
      { class: "muted" },
      "This chat runs on this machine. Pick any user name — there is no password: the local issuer mints a Cognito-shaped token for it.",
      emulator ? " Answers come from the local model emulator." : "",
    ),
    h("label", { for: "user-name" }, "User name"),
    input,
    button,
    error,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = "";
    void onSignIn(input.value).then((problem) => {
      button.disabled = false;
      if (problem !== null) error.textContent = problem;
    });
  });
  queueMicrotask(() => input.focus());
  return h("main", { class: "sign-in-page" }, form);
}

export function cognitoSignIn(onSignIn: () => void, problem: string | null): HTMLElement {
  const button = h("button", { type: "button", class: "primary" }, "Sign in");
  button.addEventListener("click", onSignIn);
  return h(
    "main",
    { class: "sign-in-page" },
    h(
      "div",
      { class: "card sign-in" },
      h("div", { class: "brand big" }, h("span", { class: "logo", "aria-hidden": "true" }), "Chat"),
      h("h1", {}, "Sign in to continue"),
      h("p", { class: "muted" }, "You will be sent to the sign-in page and brought back here."),
      button,
      problem === null ? null : h("p", { class: "error-text", role: "alert" }, problem),
    ),
  );
}

export function fatal(message: string): HTMLElement {
  return h("main", { class: "sign-in-page" }, h("div", { class: "card", role: "alert" }, h("h1", {}, "The chat could not start"), h("p", {}, message)));
}
