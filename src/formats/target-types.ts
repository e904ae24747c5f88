// Shape of a target mapping file (mappings/targets/<target>.yaml): how a canonical event is
// rendered in ECS or OCSF, and read back. The file is data; target-compiler.ts turns it once
// into one plain encode function and one decode function per class.
//
// The rule that makes renderings reversible (decode(encode(e)) = e, so the hash chain can be
// re-checked on an ECS or OCSF export): every canonical field has exactly one *home* per class,
// the first applicable placement in its `fields:` list. A value the home cannot carry exactly
// (wrong class, a `when` that fails, a value the target rejects, a lossy conversion, a value
// equal to the home's fill-in default) goes to `<custom_namespace>.<canonical path>` instead,
// where the decoder looks first. Copies, derived values, constants and fill-ins are written for
// the target's consumers and never read back.

export type Scalar = string | number | boolean;

/** A condition evaluated while encoding. Canonical paths unless noted. */
export interface TargetCondition {
  /** Every path is present. */
  readonly exists?: readonly string[];
  /** At least one path is present. */
  readonly any?: readonly string[];
  /** No path is present. */
  readonly absent?: readonly string[];
  /** Each path holds one of the listed values. */
  readonly in?: Readonly<Record<string, readonly Scalar[]>>;
  /** A path of the document being built exists (evaluated after the homes are written). */
  readonly target_exists?: string;
}

/**
 * Value conversions on the way to the target. `epoch_ms` is one-way (copies and derived values
 * only); the others are undone by the decoder.
 */
export type TargetConversion =
  /** RFC 3339 string → milliseconds since the epoch (one-way). */
  | 'epoch_ms'
  /** milliseconds → integer nanoseconds (on a home, a value that does not survive the round trip is also kept exactly in the fallback). */
  | 'ns_from_ms'
  /** rounded to an integer (on a home, a value with a fraction is also kept exactly in the fallback). */
  | 'int'
  /** {k: v} → [{name: k, value: v}] (OCSF key_value_object list). */
  | 'key_value_list';

/** What a home or copy accepts; values it rejects fall back to the custom namespace. */
export type AcceptSpec =
  | 'ip'
  | 'not_ip'
  | 'email'
  | { readonly in: readonly Scalar[] }
  | { readonly pattern: string };

/** A value filled in when the field itself is absent: a constant, or the first present of other canonical fields. */
export type FillSpec = Scalar | { readonly first?: readonly string[]; readonly value?: Scalar; readonly as?: TargetConversion };

export interface PlacementSpec {
  /** Target path, e.g. `actor.user.uid`, `resources[0].name`. */
  readonly to: string;
  /** A copy for consumers of the target, not the home (never read back). */
  readonly copy?: boolean;
  readonly as?: TargetConversion;
  /** Lookup table for the value (must be one-to-one on a home). Misses fall back. */
  readonly map?: Readonly<Record<string, Scalar>>;
  readonly accept?: AcceptSpec;
  /** Only for these classes (default: every class that has the target's top-level attribute). */
  readonly classes?: readonly string[];
  /** Place the value here only when this holds (else it falls back). */
  readonly when?: TargetCondition;
  /** Written at the home when the field is absent (so a required target attribute is never missing). */
  readonly default?: FillSpec;
  /** When the default is written (default: always). */
  readonly default_when?: TargetCondition;
}

/** `fields:` value: one target path, a placement, or a list of them (first applicable = home). */
export type FieldPlacements = string | PlacementSpec | ReadonlyArray<string | PlacementSpec>;

/** A target value computed from canonical fields for the target's consumers (never read back). */
export interface DerivedSpec {
  readonly to: string;
  /** Canonical path the value comes from. */
  readonly from?: string;
  /** First present of these canonical paths. */
  readonly first?: readonly string[];
  /** Present values of these canonical paths joined by a space (a one-line summary). */
  readonly join?: readonly string[];
  /** A constant. */
  readonly value?: Scalar | readonly Scalar[];
  readonly as?: TargetConversion;
  readonly map?: Readonly<Record<string, Scalar | readonly Scalar[]>>;
  /** When the map has no entry for the value. */
  readonly default?: Scalar | readonly Scalar[];
  /** Add to the array at `to` (without duplicates) instead of setting it. */
  readonly append?: boolean;
  readonly when?: TargetCondition;
  readonly classes?: readonly string[];
}

/** Fills an object a target schema constrains (e.g. "at least one of ip, hostname, name"). */
export interface EnsureSpec {
  /** Target object path; '' = the document root. */
  readonly at: string;
  /** Create the object when it is missing in these classes (elsewhere only fill an existing one). */
  readonly required_in?: readonly string[];
  /** Nothing is filled when one of these keys is set at `at`. */
  readonly unless_any: readonly string[];
  /** Sub-path under `at` → value (first present canonical field, else the constant). */
  readonly set: Readonly<Record<string, { readonly first?: readonly string[]; readonly value?: Scalar; readonly as?: TargetConversion }>>;
  readonly classes?: readonly string[];
}

/** Target array ← every present value of the listed canonical paths, deduplicated, in order. */
export type CollectSpec = readonly string[] | { readonly from: readonly string[]; readonly accept?: AcceptSpec };

/** A target class (OCSF). */
export interface ClassSpec {
  readonly uid: number;
  readonly caption: string;
  readonly category: { readonly uid: number; readonly caption: string };
  /** activity_id → caption. */
  readonly activities: Readonly<Record<string, string>>;
  /** Top-level attributes of the class that the mapping uses, besides the file's base_attributes. */
  readonly attributes: readonly string[];
  /** Profiles the class supports (listed in `profiles.field` only when applied). */
  readonly profiles?: readonly string[];
}

export interface ActivitySpec {
  /** Canonical paths looked up in `map`, in order; the first hit gives the activity id. */
  readonly from?: readonly string[];
  readonly map?: Readonly<Record<string, number>>;
  /** The id when no lookup hits (or the only id). */
  readonly default: number;
  /** activity_name when the id is 99 (Other): OCSF wants the source-specific name there. */
  readonly other_name?: string | { readonly first: readonly string[]; readonly value: string };
}

export interface RouteSpec {
  /** Canonical path → accepted values; all must match. */
  readonly when: Readonly<Record<string, readonly Scalar[]>>;
  readonly class: string;
  readonly activity: number | ActivitySpec;
}

export interface TargetFile {
  readonly target: 'ecs' | 'ocsf';
  /** Schema version of the target this file maps to (the sink's `encoding_version` must match). */
  readonly version: string;
  readonly description?: string;
  /** Where canonical fields with no home go, at their canonical path. */
  readonly custom_namespace: string;
  /** Target path holding the target version (a constant); decoders check it. */
  readonly version_field: string;
  /** Constants on every document; `${version}` and `${agent_version}` are substituted in strings. */
  readonly constants?: Readonly<Record<string, unknown>>;
  /** Top-level attributes every class has (OCSF base event). */
  readonly base_attributes?: readonly string[];
  readonly classes?: Readonly<Record<string, ClassSpec>>;
  /** First match picks the class and activity (OCSF). */
  readonly routes?: readonly RouteSpec[];
  /** Which top-level attributes mean a profile is applied; the applied ones are listed at `field`. */
  readonly profiles?: { readonly field: string; readonly applies: Readonly<Record<string, readonly string[]>> };
  readonly fields: Readonly<Record<string, FieldPlacements>>;
  readonly derived?: readonly DerivedSpec[];
  readonly ensure?: readonly EnsureSpec[];
  readonly collect?: Readonly<Record<string, CollectSpec>>;
  /** Fields of the next release of the target emitted early (name → Elasticsearch type), e.g. ECS 9.5's gen_ai.provider.name. */
  readonly ahead_of_version?: Readonly<Record<string, string>>;
}
