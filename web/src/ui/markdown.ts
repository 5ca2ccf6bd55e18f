/**
 * Model output → safe HTML. Model text is untrusted (a prompt injection can make it emit anything), so:
 *  1. raw HTML in the markdown is shown as text, never interpreted (a `<script>` in an answer reads as code);
 *  2. images become plain links: a remote image would load by itself and could leak the conversation in its URL;
 *  3. everything marked produces passes DOMPurify (HTML profile only, no forms, no styles), and links open in a
 *     new tab without an opener. The page.s Content-Security-Policy (runtime/web-security-headers.ts) forbids inline script besides.
 */
import DOMPurify from "dompurify";
import { Marked } from "marked";

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
    image({ href, text }) {
      const label = text.trim() === "" ? "image" : text;
      return `<a href="${escapeHtml(href)}" class="image-link">${escapeHtml(label)}</a>`;
    },
  },
});

const FORBID_TAGS = ["style", "form", "input", "button", "textarea", "select", "option", "iframe", "img", "video", "audio", "source", "picture", "object", "embed", "link", "meta", "base"];

let hooksInstalled = false;
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node instanceof HTMLAnchorElement) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    }
  });
}

/** Renders markdown to sanitized HTML (a string safe to assign to innerHTML). */
export function renderMarkdown(markdown: string): string {
  installHooks();
  const html = marked.parse(markdown) as string;
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS,
    FORBID_ATTR: ["style", "id", "name"],
    ALLOW_DATA_ATTR: false,
  });
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
