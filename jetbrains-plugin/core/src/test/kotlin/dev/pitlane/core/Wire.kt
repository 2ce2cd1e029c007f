package dev.pitlane.core

import com.google.gson.JsonObject
import com.google.gson.JsonParser
import java.io.ByteArrayOutputStream
import java.io.InputStream
import java.io.OutputStream
import java.nio.charset.StandardCharsets.UTF_8

/**
 * The server side of an LSP-framed stream, for tests that play the bridge
 * against the client: reads the client's frames and writes frames to it.
 * Written independently of lsp4j so that the client's framing is checked
 * against a second implementation.
 */
class Wire(private val input: InputStream, private val output: OutputStream) {
    /** The next message the client sent, or null at end of stream. */
    fun read(): JsonObject? {
        var length = -1
        while (true) {
            val line = readLine() ?: return null
            if (line.isEmpty()) break
            val (key, value) = line.split(":", limit = 2).map { it.trim() }
            if (key.equals("Content-Length", ignoreCase = true)) length = value.toInt()
        }
        require(length >= 0) { "frame without Content-Length" }
        val body = input.readNBytes(length)
        require(body.size == length) { "stream ended inside a frame" }
        return JsonParser.parseString(String(body, UTF_8)).asJsonObject
    }

    fun write(message: JsonObject) = writeRaw(message.toString())

    fun writeRaw(json: String) {
        val body = json.toByteArray(UTF_8)
        synchronized(output) {
            output.write("Content-Length: ${body.size}\r\n\r\n".toByteArray(UTF_8))
            output.write(body)
            output.flush()
        }
    }

    private fun readLine(): String? {
        val buf = ByteArrayOutputStream()
        while (true) {
            val b = input.read()
            if (b < 0) return if (buf.size() == 0) null else buf.toString(UTF_8)
            if (b == '\n'.code) {
                val s = buf.toString(UTF_8)
                return s.removeSuffix("\r")
            }
            buf.write(b)
        }
    }
}
