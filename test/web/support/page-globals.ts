/**
 * The browser globals that callbacks run inside the page (`page.evaluate`, `waitForFunction`) touch, typed for
 * the repository's DOM-less type check. A callback reads them as `globalThis as unknown as PageGlobals`; the cast
 * disappears at run time, where globalThis is the page's window. Module-scoped: no DOM types leak elsewhere.
 */
export interface PageNode {
  readonly tagName: string;
  readonly textContent: string | null;
  readonly attributes: Iterable<{ readonly name: string }>;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): ArrayLike<PageNode> & Iterable<PageNode>;
  scrollTop: number;
  readonly scrollHeight: number;
  readonly clientHeight: number;
}

export interface PageGlobals {
  document: PageNode & { readonly body: PageNode };
  location: { readonly hash: string };
  MutationObserver: new (callback: () => void) => {
    observe(target: PageNode, options: { subtree?: boolean; childList?: boolean; characterData?: boolean }): void;
  };
  /** Set by hostile markup if it ever ran; read by the tests. */
  __xss?: string;
  __paints?: { paints: number; last: string };
  __status?: (text: string) => void;
  __said?: (text: string) => void;
}
