// Building the page's DOM. Text only ever enters the page as text nodes or attribute values,
// never parsed as markup, so a framework named "<img onerror=…>" shows as those characters;
// sizes and positions go through the CSSOM (element.style.x = …), which the CSP allows where it
// forbids style attributes.

/** An element with attributes (`class`, `href`, …) and children (strings become text). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Appends children: nodes as they are, strings and numbers as text, nothing for null/false. */
export function append(element, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function byId(id) {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`index.html has no #${id}`);
  return element;
}

/** "#/task/f1/t1" from ["task", "f1", "t1"]: each part encoded, so ids never break the route. */
export function routeHref(...parts) {
  return `#/${parts.map((part) => encodeURIComponent(String(part))).join('/')}`;
}
