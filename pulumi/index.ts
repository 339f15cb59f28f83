export * from "./rotating-access-key";
