/**
 * `helmet-build new`: a new component folder that builds as it is — component.yaml (KFP v1 spec with
 * `build:`), a Python entrypoint whose arguments match the spec, a .dockerignore that keeps the spec
 * and tests out of the image, and a unit test. It never overwrites anything.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { loadProject } from '../project/load-project.js';
import { COMPONENT_FOLDER_NAME } from '../project/names.js';

export interface NewComponentOptions {
  root: string;
  name: string;
  /** A built component whose image the new one starts from (BASE_IMAGE). */
  from?: string;
  /**
   * Dockerfile, relative to the project root; `true`: a Dockerfile of its own, written beside
   * component.yaml (the layout KFP repositories use). @default dockerfiles/base.Dockerfile, written when missing
   */
  dockerfile?: string | true;
}

/** Creates the files; returns their paths relative to the project root. */
export function newComponent(o: NewComponentOptions): string[] {
  if (!COMPONENT_FOLDER_NAME.test(o.name)) {
    throw new UsageError(`"${o.name}" is not a component name: use lowercase words joined by "-", "_" or "." (e.g. score-model, confusion_matrix)`);
  }
  const dir = join(o.root, 'components', o.name);
  if (existsSync(dir)) throw new UsageError(`components/${o.name} already exists; nothing was changed`, { hint: 'Pick another name, or edit that folder.' });
  if (o.from) {
    const base = loadProject(o.root).components.find((c) => c.name === o.from);
    if (base?.kind !== 'built') throw new UsageError(`--from ${o.from}: not a component with a build: section`);
  }
  const beside = o.dockerfile === true;
  const dockerfile = typeof o.dockerfile === 'string' ? o.dockerfile : beside ? `components/${o.name}/Dockerfile` : 'dockerfiles/base.Dockerfile';
  const writeDockerfile = !existsSync(join(o.root, dockerfile));
  if (writeDockerfile && typeof o.dockerfile === 'string') {
    throw new UsageError(`--dockerfile ${o.dockerfile}: file not found (paths are relative to the project root)`, {
      hint: 'Give --dockerfile alone to write a Dockerfile beside component.yaml.',
    });
  }

  const module = o.name.replace(/[-.]/g, '_');
  const files: Record<string, string> = {
    [`components/${o.name}/component.yaml`]: componentYaml(o.name, module, beside ? undefined : dockerfile, o.from, schemaPath(o.root, dir)),
    [`components/${o.name}/${module}.py`]: entrypoint(o.name),
    [`components/${o.name}/test_${module}.py`]: unitTest(module),
    // The Dockerfile beside it is read by the engine, never copied into the image.
    [`components/${o.name}/.dockerignore`]: beside ? `${DOCKERIGNORE}Dockerfile\n` : DOCKERIGNORE,
    ...(writeDockerfile ? { [dockerfile]: DOCKERFILE } : {}),
  };
  for (const [path, content] of Object.entries(files)) {
    const abs = join(o.root, path);
    mkdirSync(join(abs, '..'), { recursive: true });
    // 'wx': never overwrite, even a file that appeared since the checks above.
    writeFileSync(abs, content, { flag: 'wx' });
  }
  return Object.keys(files).map((p) => relative(o.root, join(o.root, p)));
}

/**
 * The editor schema of component.yaml as the new file should name it: the one shipped with this
 * helmet-build, when it lies inside the project (installed in its node_modules, or helmet-build's own
 * repository), relative to the component folder; undefined otherwise, as a path outside the project
 * would name a file only this machine has.
 */
function schemaPath(root: string, componentDir: string): string | undefined {
  // The package root is two folders up from this module, in the sources (src/scaffold) and in the bundle (lib/bundle).
  const schema = fileURLToPath(new URL('../../schema/component.schema.json', import.meta.url));
  const inProject = relative(root, schema);
  if (!existsSync(schema) || inProject.startsWith('..') || isAbsolute(inProject)) return undefined;
  return relative(componentDir, schema);
}

/** `dockerfile` undefined: the Dockerfile beside component.yaml, which needs no key. */
function componentYaml(name: string, module: string, dockerfile: string | undefined, from: string | undefined, schema: string | undefined): string {
  const title = name.replace(/[-_.]/g, ' ').replace(/^./, (c) => c.toUpperCase());
  return `${schema ? `# yaml-language-server: $schema=${schema}\n` : ''}name: ${title}
description: The ${name} step. Describe what it reads and what it writes.
inputs:
  - {name: message, type: String, default: hello, description: What the step prints}
implementation:
  container:
    command: [python3, /app/${module}.py]
    args: [--message, {inputValue: message}]
build:
  image: ${name}
${dockerfile ? `  dockerfile: ${dockerfile}\n` : ''}${from ? `  from: ${from}\n` : ''}`;
}

function entrypoint(name: string): string {
  return `"""The ${name} step: parses the arguments component.yaml passes and does its work."""
import argparse
import sys


def parse_args(argv):
    parser = argparse.ArgumentParser(description="The ${name} step.")
    parser.add_argument("--message", default="hello", help="What the step prints")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(f"${name}: {args.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;
}

function unitTest(module: string): string {
  return `import contextlib
import io
import unittest

import ${module}


class ${module.replace(/(^|_)(\w)/g, (_m, _u, c: string) => c.toUpperCase())}Test(unittest.TestCase):
    def test_prints_the_message(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(${module}.main(["--message", "hi"]), 0)
        self.assertIn("hi", out.getvalue())


if __name__ == "__main__":
    unittest.main()
`;
}

const DOCKERIGNORE = `# Tests, caches and the spec stay out of the image: editing a description must not rebuild it.
test_*.py
**/__pycache__
**/*.pyc
component.yaml
`;

const DOCKERFILE = `# Python runtime for a component; BASE_IMAGE lets offline users build from a local or mirrored image.
ARG BASE_IMAGE=python:3.11-slim
FROM \${BASE_IMAGE}
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY . /app
`;
