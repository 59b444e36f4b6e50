// Small DOM helpers: elements built from data (never from HTML strings, so no message text is
// ever parsed as markup), and times shown the way people read them.

/** h('button', {class: 'x', onclick}, 'text', child…) */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
    else if (name === 'style') for (const [key, v] of Object.entries(value)) element.style.setProperty(key, v);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

export function clear(element, ...children) {
  element.replaceChildren(...children.flat().filter(Boolean));
}

export function clock(ms) {
  const at = new Date(ms);
  const now = new Date();
  const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (at.toDateString() === now.toDateString()) return time;
  return `${at.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${time}`;
}

export function initials(name) {
  return (name || '?').trim().slice(0, 2).toUpperCase();
}

/** A stable hue for a name, for avatars. */
export function hue(name) {
  let sum = 0;
  for (const char of name || '') sum = (sum * 31 + char.codePointAt(0)) % 360;
  return sum;
}
