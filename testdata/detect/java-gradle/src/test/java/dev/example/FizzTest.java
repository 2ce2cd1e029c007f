package dev.example;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class FizzTest {
    @Test
    public void says() {
        assertEquals("FizzBuzz", Fizz.say(30));
        assertEquals("7", Fizz.say(7));
    }
}
