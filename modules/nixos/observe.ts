// nixos.options observes nothing itself: its block is compared with the
// module on the host, and NixOS compares the system, by the play's closing
// switch task (lib/nixos/backends.ts). It has no backend for other platforms.
export {};
