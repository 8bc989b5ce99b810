// Redocly CLI plugin: the checks of docs/changing-the-api.md that no built-in rule makes.
// Loaded by tools/spec/redocly.yaml; its rules are named `currency/<rule>` there.
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

// Keywords whose values are data, not schemas: never follow a `$ref` inside them.
const LITERAL_KEYWORDS = new Set(['example', 'examples', 'enum', 'default', 'const']);

// Component kinds that Redocly's built-in `no-unused-components` does not track.
const REF_TRACKED_KINDS = ['links', 'callbacks'];

function inlineRefs(node, ctx, seen) {
  if (Array.isArray(node)) return node.map((item) => inlineRefs(item, ctx, seen));
  if (node === null || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string') {
    // A recursive schema stops at its second visit: the example is checked to that depth.
    if (seen.has(node.$ref)) return {};
    const resolved = ctx.resolve(node);
    if (resolved.node === undefined) return {};
    return inlineRefs(resolved.node, ctx, new Set([...seen, node.$ref]));
  }
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = LITERAL_KEYWORDS.has(key) ? value : inlineRefs(value, ctx, seen);
  }
  return out;
}

function describeErrors(errors) {
  return (errors ?? [])
    .map((e) => `${e.instancePath || 'the value'} ${e.message}`)
    .join('; ');
}

// Header examples: Redocly validates media type, schema and parameter examples, not headers'.
function NoInvalidHeaderExamples() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const reported = new Set();
  return {
    Header: {
      enter(header, ctx) {
        if (header.schema === undefined) return;
        const samples = [];
        if (header.example !== undefined) {
          samples.push([ctx.location.child('example'), header.example]);
        }
        for (const [name, example] of Object.entries(header.examples ?? {})) {
          const resolved = ctx.resolve(example).node ?? {};
          if (resolved.value !== undefined) {
            samples.push([ctx.location.child(['examples', name]), resolved.value]);
          }
        }
        if (samples.length === 0) return;
        let validate;
        try {
          validate = ajv.compile(inlineRefs(header.schema, ctx, new Set()));
        } catch (error) {
          ctx.report({
            message: `Header schema cannot be compiled: ${error.message}`,
            location: ctx.location.child('schema'),
          });
          return;
        }
        for (const [location, value] of samples) {
          if (reported.has(location.absolutePointer) || validate(value)) continue;
          reported.add(location.absolutePointer);
          ctx.report({
            message: `Example value must conform to the header schema: ${describeErrors(validate.errors)}.`,
            location,
          });
        }
      },
    },
  };
}

function collectRefs(node, refs) {
  if (Array.isArray(node)) {
    for (const item of node) collectRefs(item, refs);
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') refs.add(value);
      else collectRefs(value, refs);
    }
  }
  return refs;
}

function pointerToken(name) {
  return String(name).replaceAll('~', '~0').replaceAll('/', '~1');
}

// Unused links and callbacks: the component kinds the built-in rule leaves out.
function NoUnusedComponents() {
  return {
    Root: {
      leave(root, ctx) {
        const components = root.components ?? {};
        const refs = collectRefs(root, new Set());
        for (const kind of REF_TRACKED_KINDS) {
          for (const name of Object.keys(components[kind] ?? {})) {
            if (!refs.has(`#/components/${kind}/${pointerToken(name)}`)) {
              ctx.report({
                message: `Component ${kind}/${name} is never referenced.`,
                location: ctx.location.child(['components', kind, name]).key(),
              });
            }
          }
        }
      },
    },
  };
}

export default function currencyPlugin() {
  return {
    id: 'currency',
    rules: {
      oas3: {
        'no-invalid-header-examples': NoInvalidHeaderExamples,
        'no-unused-components': NoUnusedComponents,
      },
    },
  };
}
