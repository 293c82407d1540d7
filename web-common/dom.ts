// Tiny DOM helpers shared by the two web apps (the phone app in
// mobile-bridge/ and the desktop window in ui/): element creation with
// text-only children and a keyed list updater. Not a framework: no virtual
// DOM, no HTML strings. Every string passed here ends up as textContent,
// never parsed as HTML. Neither app has code of its own here.

export type Attrs = Record<string, string | number | boolean | null | undefined>;
export type Child = Node | string | null | undefined | false;

/** Create an element; attributes via setAttribute, strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

export function setAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'style') throw new Error('use element.style from JS, not a style attribute');
    if (v === null || v === undefined || v === false) el.removeAttribute(k);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

/** Set text only when it changed (keeps screen readers and selection calm). */
export function setText(el: Node, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Toggle the hidden attribute. */
export function show(el: HTMLElement, visible: boolean): void {
  if (el.hidden === visible) el.hidden = !visible;
}

export interface Keyed<T> {
  el: HTMLElement;
  update(item: T): void;
  destroy?(): void;
}

/**
 * Keep `container`'s children in the order of `items`, creating, updating and
 * removing entries by key. Existing elements are reused, so focus and any
 * in-progress interaction (a held button) survive a re-render.
 */
export function keyedList<T>(
  container: HTMLElement,
  cache: Map<string, Keyed<T>>,
  items: readonly T[],
  key: (item: T) => string,
  create: (item: T) => Keyed<T>,
): void {
  const seen = new Set<string>();
  let prev: Node | null = null;
  for (const item of items) {
    const k = key(item);
    seen.add(k);
    let entry = cache.get(k);
    if (!entry) {
      entry = create(item);
      cache.set(k, entry);
    }
    entry.update(item);
    const want: ChildNode | null = prev ? prev.nextSibling : container.firstChild;
    if (want !== entry.el) container.insertBefore(entry.el, want);
    prev = entry.el;
  }
  for (const [k, entry] of cache) {
    if (seen.has(k)) continue;
    entry.destroy?.();
    entry.el.remove();
    cache.delete(k);
  }
}
