// Packaging refuses a config that API Gateway's HTTP API JWT authorizer cannot honour, naming the field
// (infra/aws/gateway-rules.ts; docs/operators.md, "The JWT authorizer"). The rules run on configs
// parsed by Signet's own parser, and once through the packaging resolver (infra/aws/signet-config.cjs)
// exactly as `serverless package` calls it, so the wiring is tested too.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { load as parseYaml, dump as toYaml } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import {
  assertGatewayCanHonour,
  GATEWAY_JWT_ALGORITHMS,
  gatewayProblems,
} from '../../../infra/aws/gateway-rules.ts';
import { parseConfig } from '../../../lib/config/index.ts';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const FILE = 'infra/aws/config/prod.yml';

type Document = Record<string, unknown> & {
  auth: { jwt?: Record<string, unknown> } & Record<string, unknown>;
};

/** The shipped prod config as a plain document, for each test to change. */
function prodDocument(): Document {
  return parseYaml(readFileSync(join(ROOT, FILE), 'utf8')) as Document;
}

function withJwt(change: Record<string, unknown>): Document {
  const document = prodDocument();
  document.auth.jwt = { ...document.auth.jwt, ...change };
  return document;
}

function problemsOf(document: Document, authorizer = 'jwt'): string[] {
  return gatewayProblems({ file: FILE, config: parseConfig(document, FILE), authorizer });
}

describe('the shipped configs', () => {
  it('deploy as written: prod behind the JWT authorizer, dev without it', () => {
    expect(problemsOf(prodDocument())).toEqual([]);
    const dev = parseYaml(readFileSync(join(ROOT, 'infra/aws/config/dev.yml'), 'utf8')) as Document;
    expect(problemsOf(dev, 'none')).toEqual([]);
  });
});

describe('auth.jwt.algorithms behind the JWT authorizer', () => {
  it('refuses ES256 next to RS256, naming the field, what the gateway verifies, and the offender', () => {
    const problems = problemsOf(withJwt({ algorithms: ['RS256', 'ES256'] }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`auth.jwt.algorithms in ${FILE}`);
    expect(problems[0]).toContain('expected only RS256, RS384, RS512');
    expect(problems[0]).toContain('got RS256, ES256 (ES256 would pass the API but be refused');
  });

  it('refuses the schema default (RS256, ES256) when the field is left out, and says so', () => {
    const { algorithms: _dropped, ...rest } = prodDocument().auth.jwt ?? {};
    const document = prodDocument();
    document.auth.jwt = rest;
    const [problem] = problemsOf(document);
    expect(problem).toContain('auth.jwt.algorithms');
    expect(problem).toContain('when the field is left out it defaults to RS256, ES256');
  });

  it.each([['ES384'], ['ES512'], ['EdDSA'], ['PS256'], ['PS512']])(
    'refuses %s (RSA-PSS is UNCONFIRMED)',
    (alg) => {
      const problems = problemsOf(withJwt({ algorithms: [alg] }));
      expect(problems).toEqual([expect.stringContaining(`(${alg} would pass the API but be refused`)]);
    },
  );

  it('accepts every RSA PKCS#1 v1.5 algorithm, alone or together', () => {
    expect(GATEWAY_JWT_ALGORITHMS).toEqual(['RS256', 'RS384', 'RS512']);
    for (const algorithms of [['RS256'], ['RS384'], ['RS512'], ['RS256', 'RS384', 'RS512']]) {
      expect(problemsOf(withJwt({ algorithms }))).toEqual([]);
    }
  });

  it('leaves any asymmetric algorithm to the API when no gateway authorizer is in front', () => {
    expect(problemsOf(withJwt({ algorithms: ['ES256', 'PS256', 'EdDSA'] }), 'none')).toEqual([]);
  });
});

describe('auth.jwt.issuer behind the JWT authorizer', () => {
  it.each([
    ['http://auth.example.com/', 'scheme http'],
    ['auth.example.com', 'not a URL'],
    ['https://auth.example.com/?tenant=1', 'a query'],
    ['https://auth.example.com/#x', 'a fragment'],
    ['https://user:pw@auth.example.com/', 'user info'],
  ])('refuses %s (%s)', (issuer, why) => {
    const problems = problemsOf(withJwt({ issuer }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`auth.jwt.issuer in ${FILE}: expected an absolute https URL`);
    expect(problems[0]).toContain(JSON.stringify(issuer));
    expect(problems[0]).toContain(why);
  });

  it('accepts https issuers with and without a path or trailing slash (Auth0, Cognito, Okta shapes)', () => {
    for (const issuer of [
      'https://auth.example.com/',
      'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123',
      'https://example.okta.com/oauth2/default',
    ]) {
      expect(problemsOf(withJwt({ issuer }))).toEqual([]);
    }
  });
});

describe('auth.jwt.audience behind the JWT authorizer', () => {
  it('refuses an audience with surrounding spaces, which no token can match', () => {
    const problems = problemsOf(withJwt({ audience: ['signet', ' signet-web'] }));
    expect(problems).toEqual([expect.stringContaining('auth.jwt.audience in infra/aws/config/prod.yml')]);
    expect(problems[0]).toContain('" signet-web"');
  });

  it('accepts one audience or several', () => {
    expect(problemsOf(withJwt({ audience: 'signet' }))).toEqual([]);
    expect(problemsOf(withJwt({ audience: ['signet', 'signet-web'] }))).toEqual([]);
  });
});

describe('the stage switch itself', () => {
  it('refuses the jwt authorizer without auth.jwt, naming the field', () => {
    const document = prodDocument();
    const { jwt: _dropped, ...auth } = document.auth;
    document.auth = auth;
    document.auth.apiKeys = { secretId: 'signet/prod/api-keys' };
    expect(problemsOf(document)).toEqual([
      expect.stringContaining(`auth.jwt in ${FILE}: expected it to be set`),
    ]);
  });

  it('refuses an apiAuthorizer param other than none or jwt', () => {
    expect(problemsOf(prodDocument(), 'cognito')).toEqual([
      'Expected the apiAuthorizer param to be none or jwt; got "cognito".',
    ]);
  });

  it('throws one error that lists every problem', () => {
    const config = parseConfig(withJwt({ algorithms: ['ES256'], issuer: 'http://auth.example.com/' }), FILE);
    expect(() => assertGatewayCanHonour({ file: FILE, config, authorizer: 'jwt' })).toThrow(
      /cannot honour infra\/aws\/config\/prod\.yml:\n- auth\.jwt\.algorithms .*\n- auth\.jwt\.issuer /,
    );
  });
});

describe('the packaging resolver (infra/aws/signet-config.cjs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signet-gateway-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const resolveConfig = createRequire(import.meta.url)('../../../infra/aws/signet-config.cjs') as (options: {
    resolveVariable: (name: string) => Promise<unknown>;
  }) => Promise<{ jwtIssuer: string; jwtAudience: string[] }>;

  /** Runs the resolver as osls does, with the prod stage's params and the given config file. */
  function packageWith(document: Document) {
    const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(file, toYaml(document));
    const variables: Record<string, unknown> = {
      'self:custom.signet.configFile': file,
      'param:activeKeyAgeGraceSeconds': '172800',
      'param:apiAuthorizer': 'jwt',
      'sls:stage': 'prod',
    };
    return resolveConfig({
      resolveVariable: async (name) => {
        if (!(name in variables)) throw new Error(`The test resolver has no ${name}.`);
        return variables[name];
      },
    });
  }

  it('fails packaging on ES256 behind the JWT authorizer, naming auth.jwt.algorithms', async () => {
    await expect(packageWith(withJwt({ algorithms: ['RS256', 'ES256'] }))).rejects.toThrow(
      /auth\.jwt\.algorithms in .*: expected only RS256, RS384, RS512/,
    );
  });

  it('renders the authorizer settings of a config the gateway can honour', async () => {
    const rendered = await packageWith(prodDocument());
    expect(rendered.jwtIssuer).toBe('https://auth.example.com/');
    expect(rendered.jwtAudience).toEqual(['signet']);
  });
});
