import { fileURLToPath } from "node:url";

/** The course's reference operator, shipped in this repository. */
export const REFERENCE_OPERATOR_DIR = fileURLToPath(new URL("../../../operator/", import.meta.url));

/** Where labgrader itself is installed: its code, labs, mutants and controls, and the reference. */
export const INSTALL_DIR = fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/$/, "");
