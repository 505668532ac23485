import type { Tree } from '@nx/devkit';
import { isSeq } from 'yaml';
import { METRICS_PORT_OFFSET } from './normalize-options';
import type { NormalizedOptions } from './normalize-options';
import { renderTemplates } from './template-files';
import { appendToList, updateYaml } from './yaml-lists';

const ROOT_COMPOSE = 'docker-compose.yml';
const FRAGMENTS = 'deploy/compose';
/** Prometheus of the compose `observability` profile: one scrape job for every service. */
const PROMETHEUS = 'deploy/observability/prometheus/prometheus.yml';
const SCRAPE_JOB = 'acme';

/**
 * The service's own compose file, one line in the root file's `include:`, and its metrics
 * port among Prometheus's targets.
 */
export function addComposeService(tree: Tree, options: NormalizedOptions): void {
  renderTemplates(tree, 'compose', FRAGMENTS, options);
  const found = updateYaml(tree, ROOT_COMPOSE, (document) =>
    appendToList(document, 'include', `${FRAGMENTS}/${options.name}.yml`, ROOT_COMPOSE),
  );
  if (!found) {
    throw new Error(
      `${ROOT_COMPOSE} not found: the service joins the system through its include list.`,
    );
  }
  addScrapeTarget(tree, options);
}

/** Its metrics port (METRICS_PORT of its compose file, on 0.0.0.0 of the internal network). */
function addScrapeTarget(tree: Tree, options: NormalizedOptions): void {
  updateYaml(tree, PROMETHEUS, (document) => {
    const config = document.toJS() as { scrape_configs?: { job_name?: string }[] };
    const job = (config.scrape_configs ?? []).findIndex((each) => each.job_name === SCRAPE_JOB);
    const targets = document.getIn(['scrape_configs', job, 'static_configs']);
    if (job < 0 || !isSeq(targets)) {
      throw new Error(`${PROMETHEUS}: expected a scrape job "${SCRAPE_JOB}" with static_configs`);
    }
    const target = {
      targets: [`${options.name}:${options.port + METRICS_PORT_OFFSET}`],
      labels: { app: options.name },
    };
    const present = (targets.toJSON() as unknown[]).some(
      (existing) => JSON.stringify(existing) === JSON.stringify(target),
    );
    if (!present) targets.add(document.createNode(target));
  });
}
