// The level of the logged-in account (user < operator < administrator) and
// what it may see.
const RANK = { user: 1, operator: 2, administrator: 3 };
let current = '';

export function setLevel(level) { current = level || ''; }

export function levelAllows(need) {
  return (RANK[current] || 0) >= (RANK[need] || 0);
}

// removes what the level may not use ([data-level="operator"] etc.)
export function pruneByLevel(root) {
  for (const el of root.querySelectorAll('[data-level]'))
    if (!levelAllows(el.dataset.level))
      el.remove();
}
