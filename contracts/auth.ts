/** Roles and permissions (CONTRACT section 4): the claims in every token, checked by every service. */
export const ROLES = ['customer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'products:write',
  'orders:approve',
  'orders:read:any',
  'orders:write:any',
  'users:read:any',
  'users:write:any',
  'payments:read:any',
  'notifications:read:any',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** A customer acts on their own resources only (checked per resource); an admin holds every permission. */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  customer: [],
  admin: PERMISSIONS,
};
