// nixos.options plans nothing itself: its block's diff and the rebuild are
// the play's (lib/nixos/backends.ts), and the check against the other tasks'
// options is the engine's, for any renderer that asks for it
// (lib/nixos/conflicts.ts).
export {};
