// The level of the logged-in account (user < operator < administrator), its
// remote permissions (manual 10.13.1: GET /session's permissions) and what
// it may see.
const RANK = { user: 1, operator: 2, administrator: 3 };
let current = '';
let permissions = null;             // null: not told (everything the level allows)

export function setLevel(level, perms) {
  current = level || '';
  permissions = Array.isArray(perms) ? perms : null;
}

// whether the account holds one of @need ("capture playback": either)
export function permissionAllows(need) {
  return !need || !permissions || need.split(' ').some((p) => permissions.includes(p));
}

export function levelAllows(need) {
  return (RANK[current] || 0) >= (RANK[need] || 0);
}

// removes what the level may not use ([data-level="operator"] etc.) and
// what needs a permission the account does not hold ([data-permission])
export function pruneByLevel(root) {
  for (const el of root.querySelectorAll('[data-level]'))
    if (!levelAllows(el.dataset.level))
      el.remove();
  for (const el of root.querySelectorAll('[data-permission]'))
    if (!permissionAllows(el.dataset.permission))
      el.remove();
}
