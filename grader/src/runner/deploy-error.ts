/**
 * The project's manifests cannot be deployed as they are (nothing to deploy, or something no
 * rewrite makes safe): the learner's fault, and the message is theirs to read.
 */
export class DeployManifestError extends Error {}
