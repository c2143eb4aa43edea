/**
 * Reading facts out of other projects' files: kind's Go source (the CNI and storage manifests
 * and the images they use), containerd's config, kubeadm's image list and apt's sources. All
 * pure, so each parser can be tested on text.
 */

/**
 * The string constants of a Go file: `const name = "..."` and raw strings joined with `+`,
 * resolving identifiers that name earlier constants. Enough for kind's const_*.go files,
 * which keep their manifests as concatenated raw strings.
 */
export function parseGoStringConsts(source: string): Map<string, string> {
  const consts = new Map<string, string>();
  const start = /^(?:const|var)\s+(\w+)\s*=\s*/gm;
  for (let m = start.exec(source); m; m = start.exec(source)) {
    const parsed = parseConcatenation(source, start.lastIndex, consts);
    if (parsed) {
      consts.set(m[1] as string, parsed.value);
      start.lastIndex = parsed.end;
    }
  }
  return consts;
}

function parseConcatenation(
  src: string,
  from: number,
  known: Map<string, string>,
): { value: string; end: number } | undefined {
  let pos = from;
  let value = "";
  for (;;) {
    const term = parseTerm(src, pos, known);
    if (!term) return undefined;
    value += term.value;
    pos = term.end;
    const plus = /^[ \t]*\+\s*/.exec(src.slice(pos));
    if (!plus) return { value, end: pos };
    pos += plus[0].length;
  }
}

function parseTerm(src: string, pos: number, known: Map<string, string>): { value: string; end: number } | undefined {
  const ch = src[pos];
  if (ch === "`") {
    const close = src.indexOf("`", pos + 1);
    return close < 0 ? undefined : { value: src.slice(pos + 1, close), end: close + 1 };
  }
  if (ch === '"') {
    const m = /^"(?:[^"\\\n]|\\.)*"/.exec(src.slice(pos));
    return m ? { value: JSON.parse(m[0]) as string, end: pos + m[0].length } : undefined;
  }
  const ident = /^[A-Za-z_]\w*/.exec(src.slice(pos));
  const value = ident ? known.get(ident[0]) : undefined;
  return ident && value !== undefined ? { value, end: pos + ident[0].length } : undefined;
}

/** `var name = []string{a, b}` lists whose elements are constants: kind's lists of images to preload. */
export function parseGoStringLists(source: string, consts: Map<string, string>): Map<string, string[]> {
  const lists = new Map<string, string[]>();
  for (const m of source.matchAll(/^var\s+(\w+)\s*=\s*\[\]string\{([^}]*)\}/gm)) {
    const items = (m[2] as string)
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    lists.set(
      m[1] as string,
      items.map((item) => {
        const value = item.startsWith('"') ? (JSON.parse(item) as string) : consts.get(item);
        if (value === undefined) throw new Error(`${m[1]} names ${item}, which is not a string constant`);
        return value;
      }),
    );
  }
  return lists;
}

export interface KindManifests {
  /** kind's default CNI manifest (still templated with {{ .PodSubnet }}; kind fills it in at create time). */
  cni: string;
  storage: string;
  /** The images kind preloads for those manifests, exactly as tagged in them. */
  images: string[];
}

/** kind's manifests from the text of pkg/build/nodeimage/const_cni.go and const_storage.go. */
export function kindManifests(constCni: string, constStorage: string): KindManifests {
  const pick = (source: string, manifest: string, imageList: string) => {
    const consts = parseGoStringConsts(source);
    const text = consts.get(manifest);
    const images = parseGoStringLists(source, consts).get(imageList);
    if (!text || !images) throw new Error(`kind's source no longer defines ${manifest} and ${imageList}`);
    return { text, images };
  };
  const cni = pick(constCni, "defaultCNIManifest", "defaultCNIImages");
  const storage = pick(constStorage, "defaultStorageManifest", "defaultStorageImages");
  return { cni: cni.text, storage: storage.text, images: [...cni.images, ...storage.images] };
}

/** The sandbox (pause) image containerd's CRI plugin is configured with. */
export function containerdSandboxImage(configToml: string): string {
  const m = /^\s*sandbox_image\s*=\s*"([^"]+)"/m.exec(configToml);
  if (!m) throw new Error("containerd's config.toml sets no sandbox_image");
  return m[1] as string;
}

/** `kubeadm config images list` prints one image reference a line. */
export function parseImageList(stdout: string): string[] {
  return stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^[\w.-]+(?::\d+)?\/[\w./-]+:[\w.-]+$/.test(l));
}

export interface AptSource {
  uri: string;
  suites: string[];
}

/** The sources of one apt file, in either the one-line (`deb URI suite …`) or the deb822 format. */
export function parseAptSources(text: string): AptSource[] {
  const oneLine = text
    .split("\n")
    .map((l) => /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ uri: m[1] as string, suites: [m[2] as string] }));
  const stanzas = text.split(/\n\s*\n/).flatMap((stanza): AptSource[] => {
    const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, "mi").exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
    if (!field("Types").includes("deb") || field("Enabled")[0] === "no") return [];
    const suites = field("Suites");
    return field("URIs").map((uri) => ({ uri, suites }));
  });
  return [...oneLine, ...stanzas];
}

/** The first mirror that serves `suite` itself (not -security or -updates), for debootstrap. */
export function debianMirror(files: string[], suite: string): string | undefined {
  return files
    .flatMap(parseAptSources)
    .find((s) => s.suites.includes(suite))
    ?.uri.replace(/\/+$/, "");
}
