import semver from 'semver';

/** The newest of the given versions. */
export function newest(versions) {
  return [...versions].sort(semver.rcompare)[0];
}
