import { randomUUID } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Request, Response } from "express";
import multer from "multer";
import { HttpError } from "../errors.ts";
import { ArchiveRejected, DEFAULT_ARCHIVE_LIMITS, extractProject } from "./archive.ts";
import { checkProjectLayout } from "./project-layout.ts";

export interface UploadOptions {
  uploadDir: string;
  maxUploadBytes: number;
  /** The Go that builds submissions (go1.26.8): an upload's go.mod may not ask for a newer one. */
  goVersion: string;
}

/** Receives the multipart field `project` into a file of its own, within the size limit. */
export function receiveArchive(options: UploadOptions) {
  const upload = multer({
    storage: multer.diskStorage({
      destination: options.uploadDir,
      filename: (_req, _file, cb) => cb(null, `upload-${randomUUID()}`),
    }),
    limits: { fileSize: options.maxUploadBytes, files: 1, fields: 10, parts: 12 },
  }).single("project");
  return (req: Request, res: Response) =>
    new Promise<Express.Multer.File>((resolve, reject) => {
      upload(req, res, (error: unknown) => {
        if (error instanceof multer.MulterError) {
          const tooBig = error.code === "LIMIT_FILE_SIZE";
          return reject(
            new HttpError(
              tooBig ? 413 : 400,
              tooBig
                ? `the upload is larger than ${options.maxUploadBytes} bytes`
                : `bad upload: ${error.message} (send the archive as the multipart field "project")`,
            ),
          );
        }
        if (error)
          return reject(new HttpError(400, `bad upload: ${error instanceof Error ? error.message : String(error)}`));
        if (!req.file)
          return reject(
            new HttpError(400, 'no file: send the project archive (.tar.gz or .zip) as the multipart field "project"'),
          );
        resolve(req.file);
      });
    });
}

/**
 * Unpacks the upload into a scratch folder of its own to prove it is a safe, complete project,
 * then throws the folder away: the archive itself is what is kept and graded.
 */
export async function inspectArchive(file: string, options: UploadOptions): Promise<Buffer> {
  const scratch = join(options.uploadDir, `inspect-${randomUUID()}`);
  try {
    const limits = { ...DEFAULT_ARCHIVE_LIMITS, maxArchiveBytes: options.maxUploadBytes };
    const project = await extractProject(file, scratch, limits);
    await checkProjectLayout(project.dir, { goVersion: options.goVersion });
    return await readFile(file);
  } catch (e) {
    if (e instanceof ArchiveRejected) throw new HttpError(e.status, e.message, { code: e.code });
    throw e;
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await rm(file, { force: true });
  }
}

export async function ensureUploadDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}
