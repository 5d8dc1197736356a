// What API Gateway's HTTP API JWT authorizer can honour, checked at packaging time
// (infra/aws/signet-config.cjs runs this before it renders anything), so a config the gateway would
// refuse fails `npm run package` naming the field, not the first signed-in user of the deployed stage.
//
// AWS facts behind each rule (docs/operators.md, "The JWT authorizer"):
// - Algorithms: "Currently, only RSA-based algorithms are supported" (API Gateway developer guide,
//   "Controlling access to HTTP APIs with JWT authorizers"). RS256, RS384 and RS512 are RSA
//   PKCS#1 v1.5 and allowed. Whether "RSA-based" takes in RSA-PSS (PS256/PS384/PS512) is UNCONFIRMED,
//   so they are refused too: a config can always list fewer algorithms than the issuer offers, never
//   one the gateway might reject. (The newer REST API JWT authorizer accepts ES256-ES512; that is a
//   different product and not what serverless.yml deploys.)
// - Issuer: the token's `iss` must match the configured issuer exactly, and the gateway fetches the
//   signing keys from the `jwks_uri` of the issuer's OpenID discovery document. An issuer that is not
//   an absolute https URL is refused: AWS's documentation team answered that the authorizer wants
//   `https://` issuers (GitHub awsdocs/amazon-api-gateway-developer-guide, issue 79; the developer guide
//   itself does not say it, so this is UNCONFIRMED in the guide's own words), and OIDC issuers are https URLs with no query or fragment. That the
//   discovery document must sit at
//   `<issuer>/.well-known/openid-configuration` is documented for the REST API JWT authorizer and
//   UNCONFIRMED for HTTP APIs; packaging is offline and cannot fetch it either way.
// - Audience: the token's `aud` (or `client_id` when `aud` is absent) must equal one of the
//   configured audiences, compared exactly; an audience with surrounding blanks can never match.
import type { Config } from '../../lib/config/index.ts';

/** The algorithms API Gateway's HTTP API JWT authorizer is documented to verify (RSA PKCS#1 v1.5). */
export const GATEWAY_JWT_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512'];

export type ApiAuthorizer = 'none' | 'jwt';

export interface GatewayCheck {
  /** The config file, as named in messages. */
  readonly file: string;
  readonly config: Config;
  /** The stage's `apiAuthorizer` param. */
  readonly authorizer: string;
}

/**
 * Every reason the stage's API Gateway cannot honour the config, each naming the field, what the
 * gateway expects and what the config has. Empty when the config deploys as written.
 */
export function gatewayProblems({ file, config, authorizer }: GatewayCheck): string[] {
  if (authorizer !== 'none' && authorizer !== 'jwt') {
    return [`Expected the apiAuthorizer param to be none or jwt; got ${JSON.stringify(authorizer)}.`];
  }
  if (authorizer === 'none') return [];
  const jwt = config.auth.jwt;
  if (jwt === undefined) {
    return [
      `auth.jwt in ${file}: expected it to be set, because the apiAuthorizer param is jwt and API Gateway's JWT authorizer needs the issuer and audience.`,
    ];
  }
  const problems: string[] = [];

  const unsupported = jwt.algorithms.filter((alg) => !GATEWAY_JWT_ALGORITHMS.includes(alg));
  if (unsupported.length > 0) {
    problems.push(
      `auth.jwt.algorithms in ${file}: expected only ${GATEWAY_JWT_ALGORITHMS.join(', ')}, because the apiAuthorizer param is jwt and API Gateway's HTTP API JWT authorizer verifies RSA signatures only; got ${jwt.algorithms.join(', ')} (${unsupported.join(', ')} would pass the API but be refused with 401 at the gateway). List the RSA algorithms your issuer signs with, for example [RS256]; when the field is left out it defaults to RS256, ES256.`,
    );
  }

  const issuerProblem = issuerShapeProblem(jwt.issuer);
  if (issuerProblem !== undefined) {
    problems.push(
      `auth.jwt.issuer in ${file}: expected an absolute https URL with a host and no user info, query or fragment (API Gateway matches it exactly against each token's iss and finds the signing keys through the issuer's OpenID discovery document); ${issuerProblem}.`,
    );
  }

  const audiences = [jwt.audience].flat();
  const blank = audiences.filter((aud) => aud.trim() !== aud || aud === '');
  if (blank.length > 0) {
    problems.push(
      `auth.jwt.audience in ${file}: expected each audience exactly as the tokens carry it in aud (or client_id), without surrounding spaces; got ${blank.map((aud) => JSON.stringify(aud)).join(', ')}.`,
    );
  }
  return problems;
}

/** Throws one Error listing every problem gatewayProblems finds. */
export function assertGatewayCanHonour(check: GatewayCheck): void {
  const problems = gatewayProblems(check);
  if (problems.length === 0) return;
  throw new Error(
    `The stage's API Gateway cannot honour ${check.file}:\n${problems.map((p) => `- ${p}`).join('\n')}`,
  );
}

function issuerShapeProblem(issuer: string): string | undefined {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return `got ${JSON.stringify(issuer)}, which is not a URL`;
  }
  if (url.protocol !== 'https:') return `got ${JSON.stringify(issuer)} (scheme ${url.protocol.slice(0, -1)})`;
  if (url.hostname === '') return `got ${JSON.stringify(issuer)} (no host)`;
  if (url.username !== '' || url.password !== '') return `got ${JSON.stringify(issuer)} (user info)`;
  if (url.search !== '' || issuer.includes('?')) return `got ${JSON.stringify(issuer)} (a query)`;
  if (url.hash !== '' || issuer.includes('#')) return `got ${JSON.stringify(issuer)} (a fragment)`;
  return undefined;
}
