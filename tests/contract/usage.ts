// The mobile day of journey.py, as a web client written against the types openapi-typescript
// generates from /api/schema/ (make contract: `tsc --strict --noEmit`, never run). A field the
// schema leaves optional although the server always sends it shows here as `T | undefined`.
import type { components, paths } from "fithub-api";

type Schemas = components["schemas"];
type Method = "get" | "post" | "patch" | "delete";
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonBody<O> = O extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;
type Query<O> = O extends { parameters: { query?: infer Q } } ? Q : never;
type PathParams<O> = O extends { parameters: { path: infer A } } ? A : never;
type Json<O, S extends number> = O extends { responses: { [K in S]: { content: { "application/json": infer R } } } }
  ? R
  : never;

interface Options<O> {
  token?: string;
  body?: JsonBody<O>;
  query?: Query<O>;
  path?: PathParams<O>;
}

const BASE = "https://api.fithub.example";

async function send<P extends keyof paths, M extends Method>(
  method: M,
  path: P,
  expected: number,
  options: Options<Operation<P, M>>,
): Promise<Response> {
  let url = `${BASE}${String(path)}`;
  for (const [name, value] of Object.entries(options.path ?? {})) {
    url = url.replace(`{${name}}`, encodeURIComponent(String(value)));
  }
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined) query.set(name, String(value));
  }
  if (query.size) url += `?${query}`;
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method: method.toUpperCase(),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status !== expected) {
    throw new Error(`${method} ${String(path)}: expected ${expected}, got ${response.status}`);
  }
  return response;
}

async function call<P extends keyof paths, M extends Method, S extends number>(
  method: M,
  path: P,
  expected: S,
  options: Options<Operation<P, M>> = {},
): Promise<Json<Operation<P, M>, S>> {
  const response = await send(method, path, expected, options);
  return (await response.json()) as Json<Operation<P, M>, S>;
}

async function callNoContent<P extends keyof paths, M extends Method>(
  method: M,
  path: P,
  options: Options<Operation<P, M>> = {},
): Promise<void> {
  await send(method, path, 204, options);
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

function localDay(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(at);
}

function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

export async function mobileDay(email: string, password: string): Promise<void> {
  const user: Schemas["User"] = await call("post", "/api/v1/auth/register/", 201, {
    body: { email, password, display_name: "Journey" },
  });
  const metric: boolean = user.unit_system === "metric";
  check(metric, `unit system ${user.unit_system}`);

  let pair: Schemas["TokenPair"] = await call("post", "/api/v1/auth/token/", 200, { body: { email, password } });
  const profile = await call("patch", "/api/v1/users/me/", 200, {
    token: pair.access,
    body: { timezone: "Europe/Paris" },
  });
  const zone: string = profile.timezone;
  const displayName: string = profile.display_name;

  const publicFoods = await call("get", "/api/v1/foods/", 200, { query: { search: "banana" } });
  check(publicFoods.results.every((food) => food.is_public), "anonymous search: not public");
  const found = await call("get", "/api/v1/foods/", 200, { token: pair.access, query: { search: "banana", page_size: 5 } });
  const banana: Schemas["Food"] | undefined = found.results.find((food) => food.energy_kcal !== null);
  if (!banana) throw new Error("no banana with energy");

  const now = new Date();
  const logged: Schemas["DiaryEntry"] = await call("post", "/api/v1/diary/", 201, {
    token: pair.access,
    body: { meal: "breakfast", consumed_at: now.toISOString(), food: banana.id, grams: 120 },
  });
  check(logged.local_date === localDay(now, zone), `local date ${logged.local_date} for ${displayName}`);
  const quick = await call("post", "/api/v1/diary/", 201, {
    token: pair.access,
    body: { meal: "snack", consumed_at: now.toISOString(), label: "Espresso", energy_kcal: 3 },
  });
  check(quick.food === null && quick.grams === null, "quick-add with a food");

  const summary: Schemas["DiarySummary"] = await call("get", "/api/v1/diary/summary/", 200, {
    token: pair.access,
    query: { start: logged.local_date, end: logged.local_date },
  });
  const day = summary.days[0];
  if (!day) throw new Error("no day in the summary");
  const eaten: number = day.totals.energy_kcal;
  const breakfast: number = day.by_meal.breakfast.energy_kcal;
  const targetKcal: number | null = day.target === null ? null : day.target.energy_kcal;
  check(eaten >= breakfast && targetKcal === null, `eaten ${eaten}`);

  const weights: Schemas["Measurement"][] = [];
  for (const [daysAgo, pounds] of [[2, 181], [1, 180], [0, 179.2]] as const) {
    const measuredAt = new Date(now.getTime() - daysAgo * 86_400_000);
    const weight = await call("post", "/api/v1/measurements/", 201, {
      token: pair.access,
      body: { type: "weight", value: pounds, unit: "lb", measured_at: measuredAt.toISOString() },
    });
    const note: string = weight.note;
    check(weight.entered_unit === "lb" && weight.stored_unit === "kg" && note === "", `weight ${weight.value}`);
    weights.push(weight);
  }
  const latest = weights[weights.length - 1];
  if (!latest) throw new Error("no weight");
  const measurementId: string = latest.id;

  const trend: Schemas["MeasurementTrend"] = await call("get", "/api/v1/measurements/trend/", 200, {
    token: pair.access,
    query: { type: "weight", start: addDays(logged.local_date, -6), end: logged.local_date },
  });
  const rate: number | null = trend.rate_per_week;
  check(trend.points.length === 3 && rate !== null && rate < 0, `trend ${rate} for ${measurementId}`);

  const goal: Schemas["Goal"] = await call("post", "/api/v1/goals/", 201, {
    token: pair.access,
    body: { type: "weight", target_value: 75, target_date: addDays(logged.local_date, 120) },
  });
  const direction: Schemas["GoalDirectionEnum"] = goal.direction;
  const startValue: number = goal.start_value;
  const progress: Schemas["GoalProgress"] = await call("get", "/api/v1/goals/{id}/progress/", 200, {
    token: pair.access,
    path: { id: goal.id },
  });
  check(progress.direction === direction && progress.remaining <= startValue - 75 + 1, "progress");
  const projected: string | null = progress.projected_date;
  check(progress.on_track === (projected !== null && projected <= goal.target_date), "on track");

  // A full sync through the change feed, two changes a page, then nothing after its cursor.
  const synced = new Map<string, Schemas["SyncChange"]>();
  let since: string | undefined;
  for (;;) {
    const page: Schemas["ChangesPage"] = await call("get", "/api/v1/sync/changes/", 200, {
      token: pair.access,
      query: since === undefined ? { limit: 2 } : { limit: 2, since },
    });
    for (const change of page.changes) synced.set(`${change.type}:${change.id}`, change);
    since = page.cursor;
    if (!page.has_more) break;
  }
  const syncedGoal = synced.get(`goal:${goal.id}`);
  check(syncedGoal?.type === "goal" && syncedGoal.data?.target_value === goal.target_value, "synced goal");
  const syncedEntry = synced.get(`diary_entry:${logged.id}`);
  check(syncedEntry?.type === "diary_entry" && syncedEntry.data?.version === logged.version, "synced entry");
  const after: Schemas["ChangesPage"] = await call("get", "/api/v1/sync/changes/", 200, {
    token: pair.access,
    query: { since },
  });
  check(after.changes.length === 0 && after.cursor === since, "nothing after the sync");

  pair = await call("post", "/api/v1/auth/token/refresh/", 200, { body: { refresh: pair.refresh } });
  const me: Schemas["User"] = await call("get", "/api/v1/users/me/", 200, { token: pair.access });
  check(me.id === user.id, "refreshed me");
  await callNoContent("post", "/api/v1/auth/logout/", { token: pair.access, body: { refresh: pair.refresh } });
  const ended: Schemas["ErrorResponse401"] = await call("get", "/api/v1/users/me/", 401, { token: pair.access });
  check(ended.errors.length > 0, "401 without errors");

  pair = await call("post", "/api/v1/auth/token/", 200, { body: { email, password } });
  await callNoContent("delete", "/api/v1/users/me/", { token: pair.access, body: { password } });
  await call("post", "/api/v1/auth/token/", 401, { body: { email, password } });
}
