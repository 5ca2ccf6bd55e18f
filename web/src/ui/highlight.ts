/**
 * Syntax highlighting of code blocks, loaded on first use: highlight.js core and a few common languages come in a
 * chunk of their own (a dynamic import, served from this origin, so the CSP's `script-src 'self'` allows it), so a
 * page with no code block never downloads them and the first load does not grow (docs/BENCHMARKS.md, "Page weight").
 * A block in another language stays plain text. Languages: TypeScript, JavaScript, Python, Bash/shell, JSON, YAML,
 * SQL, Go, Rust, Java, HTML/XML, CSS and diff, by the names and aliases highlight.js gives them (ts, py, sh, yml, …).
 */

/** Highlighted HTML of `code`, or undefined when the chunk has no language of that name (or alias). */
type Highlighter = (code: string, language: string) => string | undefined;

let loading: Promise<Highlighter> | null = null;

function load(): Promise<Highlighter> {
  loading ??= import("./highlight-languages").then((m) => m.highlighter());
  return loading;
}

/** Highlights one `<code>` element (when the chunk knows its language), once the chunk is loaded. */
export function highlightCode(code: HTMLElement, name: string): void {
  // A fence without a language ("text") never loads the chunk; the names and aliases live in the chunk, so this
  // module (on the first load) stays a few hundred bytes.
  if (name === "text" || code.dataset.highlighted !== undefined) return;
  code.dataset.highlighted = "pending";
  const source = code.textContent ?? "";
  load().then(
    (highlight) => {
      // The block may have been re-rendered meanwhile (the answer went on): leave the new one to its own call.
      if (!code.isConnected || code.textContent !== source) return;
      const html = highlight(source, name);
      if (html === undefined) {
        code.dataset.highlighted = "none";
        return;
      }
      // highlight.js escapes the source and adds only <span class="hljs-…"> around it.
      code.innerHTML = html;
      code.classList.add("hljs");
      code.dataset.highlighted = name;
    },
    () => {
      loading = null; // a failed download (offline) is tried again by the next block; this one stays plain
      delete code.dataset.highlighted;
    },
  );
}
