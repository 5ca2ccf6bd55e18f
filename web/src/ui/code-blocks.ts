/**
 * Adds a language label and a Copy button to each rendered code block (after sanitizing: buttons are ours), and
 * highlights its syntax once the highlighting chunk has loaded (./highlight.ts).
 */
import { copyText } from "./clipboard";
import { highlightCode } from "./highlight";

export function enhanceCodeBlocks(root: HTMLElement): void {
  for (const pre of root.querySelectorAll("pre")) {
    if (pre.parentElement?.classList.contains("code-block")) continue;
    const code = pre.querySelector("code");
    const language = /language-([\w+#-]+)/.exec(code?.className ?? "")?.[1] ?? "text";
    const wrapper = document.createElement("div");
    wrapper.className = "code-block";
    const bar = document.createElement("div");
    bar.className = "code-bar";
    const label = document.createElement("span");
    label.textContent = language;
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "ghost small";
    copy.textContent = "Copy code";
    copy.addEventListener("click", () => void copyText(pre.textContent ?? "", copy, "Copy code"));
    bar.append(label, copy);
    pre.replaceWith(wrapper);
    wrapper.append(bar, pre);
    pre.tabIndex = 0; // scrollable region reachable by keyboard
    if (code !== null) highlightCode(code, language);
  }
}
