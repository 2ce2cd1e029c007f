import camelCase from 'camelcase';

/** A name in camelCase. */
export const camel = (s) => camelCase(s);
