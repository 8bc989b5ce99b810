// A small caller of the Currency API, typed only by what openapi-typescript generates from
// spec/openapi.yaml. `make sdk` and tests/contract/test_typescript_types.py compile it with tsc
// (strict): a spec change that breaks TypeScript callers fails there, before merge.
import type { components, operations, paths } from "currency-api";

type Currency = components["schemas"]["Currency"];
type Problem = components["schemas"]["Problem"];
type NewCurrency = operations["createCurrency"]["requestBody"]["content"]["application/json"];
type Replacement = operations["replaceCurrency"]["requestBody"]["content"]["application/json"];
type MergePatch =
  operations["updateCurrency"]["requestBody"]["content"]["application/merge-patch+json"];
type Page = paths["/currencies"]["get"]["responses"][200]["content"]["application/json"];
type ListQuery = NonNullable<operations["listCurrencies"]["parameters"]["query"]>;
type Preconditions = NonNullable<operations["updateCurrency"]["parameters"]["header"]>;

function headers(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${token}`, ...extra };
}

export async function createCurrency(
  base: string,
  token: string,
  body: NewCurrency,
): Promise<Currency | Problem> {
  const response = await fetch(`${base}/currencies`, {
    method: "POST",
    headers: headers(token, { "Content-Type": "application/json" }),
    body: JSON.stringify(body),
  });
  return (await response.json()) as Currency | Problem;
}

export async function listAll(base: string, token: string): Promise<Currency[]> {
  const all: Currency[] = [];
  let query: ListQuery = { limit: 100 };
  for (;;) {
    const params = new URLSearchParams({ limit: String(query.limit ?? 50) });
    if (query.cursor !== undefined) params.set("cursor", query.cursor);
    const response = await fetch(`${base}/currencies?${params}`, { headers: headers(token) });
    const page = (await response.json()) as Page;
    all.push(...page.items);
    if (page.nextCursor === null) return all;
    query = { ...query, cursor: page.nextCursor };
  }
}

export async function patchCurrency(
  base: string,
  token: string,
  code: Currency["code"],
  patch: MergePatch,
  preconditions: Preconditions,
): Promise<Currency | Problem> {
  const extra: Record<string, string> = { "Content-Type": "application/merge-patch+json" };
  if (preconditions["If-Match"] !== undefined) extra["If-Match"] = preconditions["If-Match"];
  const response = await fetch(`${base}/currencies/${encodeURIComponent(code)}`, {
    method: "PATCH",
    headers: headers(token, extra),
    body: JSON.stringify(patch),
  });
  return (await response.json()) as Currency | Problem;
}

export function describe(currency: Currency): string {
  const digits = currency.minorUnit === null ? "N.A." : String(currency.minorUnit);
  const symbol = currency.symbol ?? "";
  return `${currency.code} ${currency.name} (${currency.numericCode}) ${symbol} ${digits} v${currency.version}`;
}

export function explain(problem: Problem): string {
  return `${problem.status} ${problem.title}: ${problem.detail ?? ""}`;
}

export const euro: NewCurrency = {
  code: "EUR",
  name: "Euro",
  numericCode: "978",
  minorUnit: 2,
  symbol: "€",
};
export const gold: NewCurrency = { code: "XAU", name: "Gold", numericCode: "959", minorUnit: null };
export const euroAgain: Replacement = { name: "Euro", numericCode: "978", minorUnit: 2 };
export const withoutSymbol: MergePatch = { symbol: null };
export const onlyIfUnchanged: Preconditions = { "If-Match": '"5587a397.1"' };
