// Tiny DOM helpers. Text always goes through textContent (never innerHTML), so data from the
// server cannot inject markup.

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined>;

/** Creates an element: `h('a', { href: '#/live', class: 'x' }, 'text', otherNode)`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

/** Sets attributes; `false`/null/undefined removes the attribute, `true` sets it empty. */
export function setAttrs(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) el.removeAttribute(name);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
}

/** Sets textContent only when it changed (avoids needless layout work). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/**
 * Keyed list update: reuses the element of each key, creates missing ones, removes the rest,
 * and moves elements only where the order differs.
 */
export function reconcile<T, E extends Element>(
  parent: Element,
  items: readonly T[],
  cache: Map<string, { item: T; el: E }>,
  key: (item: T) => string,
  create: (item: T) => E,
  update: (el: E, item: T) => void,
): void {
  const seen = new Set<string>();
  let cursor: ChildNode | null = parent.firstChild;
  for (const item of items) {
    const k = key(item);
    seen.add(k);
    let entry = cache.get(k);
    if (entry === undefined) {
      entry = { item, el: create(item) };
      update(entry.el, item);
      cache.set(k, entry);
    } else if (entry.item !== item) {
      entry.item = item;
      update(entry.el, item);
    }
    if (cursor === entry.el) {
      cursor = cursor.nextSibling;
    } else {
      parent.insertBefore(entry.el, cursor);
    }
  }
  for (const [k, entry] of cache) {
    if (!seen.has(k)) {
      entry.el.remove();
      cache.delete(k);
    }
  }
}
