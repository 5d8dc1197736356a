import { describe, expect, expectTypeOf, it } from 'vitest';
import type * as z from 'zod';
import type {
  Problem,
  SignedCookiesRequest,
  SignedCookiesResponse,
  SignedUrlsRequest,
  SignedUrlsResponse,
} from '../../client/signet-client.js';
import { openApiDocument } from '../../lib/http/openapi.ts';
import type {
  problemResponse,
  signedCookiesRequest,
  signedCookiesResponse,
  signedUrlsRequest,
  signedUrlsResponse,
} from '../../lib/http/schemas.ts';

// The browser client's types (client/signet-client.d.ts) are the zod schemas' types, which the
// OpenAPI document is generated from. `npm run typecheck` (tsc over test/) fails on any drift; the
// test below also checks the property names against the OpenAPI document a caller would read.

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

describe('client/signet-client.d.ts', () => {
  it('has exactly the request and answer types of the schemas the OpenAPI document is generated from', () => {
    expectTypeOf<SignedUrlsRequest>().toEqualTypeOf<z.input<typeof signedUrlsRequest>>();
    expectTypeOf<SignedCookiesRequest>().toEqualTypeOf<z.input<typeof signedCookiesRequest>>();
    expectTypeOf<SignedUrlsResponse>().toEqualTypeOf<z.output<typeof signedUrlsResponse>>();
    expectTypeOf<SignedCookiesResponse>().toEqualTypeOf<z.output<typeof signedCookiesResponse>>();
    expectTypeOf<Problem>().toEqualTypeOf<z.output<typeof problemResponse>>();
    const checks: true[] = [
      true satisfies Same<SignedCookiesResponse, z.output<typeof signedCookiesResponse>>,
      true satisfies Same<SignedUrlsResponse, z.output<typeof signedUrlsResponse>>,
    ];
    expect(checks).toEqual([true, true]);
  });

  it('names every property the OpenAPI document names', async () => {
    const { readFile } = await import('node:fs/promises');
    const declared = await readFile(new URL('../../client/signet-client.d.ts', import.meta.url), 'utf8');
    const doc = openApiDocument() as {
      paths: Record<
        string,
        {
          post: {
            requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
            responses: Record<
              string,
              {
                content?: Record<
                  string,
                  { schema: { properties: Record<string, { items?: { properties?: object } }> } }
                >;
              }
            >;
          };
        }
      >;
    };
    const names = new Set<string>();
    for (const path of ['/v1/signed-urls', '/v1/signed-cookies']) {
      const op = doc.paths[path]!.post;
      for (const name of Object.keys(op.requestBody.content['application/json']!.schema.properties))
        names.add(name);
      const answer = op.responses['200']!.content!['application/json']!.schema.properties;
      for (const [name, value] of Object.entries(answer)) {
        names.add(name);
        for (const inner of Object.keys(value.items?.properties ?? {})) names.add(inner);
      }
    }
    const missing = [...names].filter((name) => !new RegExp(`\\b${name}\\??:`).test(declared));
    expect(missing).toEqual([]);
  });
});
