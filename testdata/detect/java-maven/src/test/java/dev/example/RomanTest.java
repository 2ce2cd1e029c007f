package dev.example;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class RomanTest {
    @Test
    public void converts() {
        assertEquals("MCMXCIV", Roman.of(1994));
    }
}
