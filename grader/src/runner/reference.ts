import { fileURLToPath } from "node:url";

/** The course's reference operator, shipped in this repository. */
export const REFERENCE_OPERATOR_DIR = fileURLToPath(new URL("../../../operator/", import.meta.url));
