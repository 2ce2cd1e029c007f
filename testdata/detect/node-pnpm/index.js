import ms from 'ms';

/** Milliseconds in a human duration such as "2h". */
export const millis = (s) => ms(s);
