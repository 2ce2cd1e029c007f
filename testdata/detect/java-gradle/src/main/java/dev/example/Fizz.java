package dev.example;

/** FizzBuzz. */
public final class Fizz {
    private Fizz() {}

    /** What to say for n. */
    public static String say(int n) {
        if (n % 15 == 0) return "FizzBuzz";
        if (n % 3 == 0) return "Fizz";
        if (n % 5 == 0) return "Buzz";
        return Integer.toString(n);
    }
}
