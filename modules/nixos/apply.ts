// nixos.options changes nothing itself: the play's closing switch task
// writes the module and switches (lib/nixos/backends.ts).
export {};
