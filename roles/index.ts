// Roles shipped with hostform are exported here as they are written (issues 4 and 5).
export {};
