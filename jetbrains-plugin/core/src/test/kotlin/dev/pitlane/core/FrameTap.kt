package dev.pitlane.core

import com.google.gson.JsonElement
import com.google.gson.JsonParser
import java.io.ByteArrayOutputStream
import java.io.FilterInputStream
import java.io.FilterOutputStream
import java.io.InputStream
import java.io.OutputStream
import java.nio.charset.StandardCharsets.UTF_8
import java.util.concurrent.LinkedBlockingQueue

/**
 * Cuts a byte stream into LSP frames as it passes and queues each body as
 * JSON, so that a test sees exactly the bytes that went over the wire,
 * independently of lsp4j's decoding.
 */
class FrameTap {
    val frames = LinkedBlockingQueue<JsonElement>()
    private val buf = ByteArrayOutputStream()

    @Synchronized
    fun feed(b: ByteArray, off: Int, len: Int) {
        buf.write(b, off, len)
        while (true) {
            val bytes = buf.toByteArray()
            val end = indexOf(bytes, HEADER_END)
            if (end < 0) return
            val headers = String(bytes, 0, end, UTF_8).split("\r\n")
            val length = headers.firstNotNullOfOrNull { h ->
                val (k, v) = h.split(":", limit = 2).let { it[0].trim() to it.getOrElse(1) { "" }.trim() }
                if (k.equals("Content-Length", ignoreCase = true)) v.toInt() else null
            } ?: error("frame without Content-Length: $headers")
            val start = end + HEADER_END.size
            if (bytes.size < start + length) return
            frames += JsonParser.parseString(String(bytes, start, length, UTF_8))
            buf.reset()
            buf.write(bytes, start + length, bytes.size - start - length)
        }
    }

    /** [input] with every byte read also fed to this tap. */
    fun tee(input: InputStream): InputStream = object : FilterInputStream(input) {
        override fun read(): Int {
            val b = super.read()
            if (b >= 0) feed(byteArrayOf(b.toByte()), 0, 1)
            return b
        }

        override fun read(b: ByteArray, off: Int, len: Int): Int {
            val n = super.read(b, off, len)
            if (n > 0) feed(b, off, n)
            return n
        }
    }

    /** [output] with every byte written also fed to this tap. */
    fun tee(output: OutputStream): OutputStream = object : FilterOutputStream(output) {
        override fun write(b: Int) {
            out.write(b)
            feed(byteArrayOf(b.toByte()), 0, 1)
        }

        override fun write(b: ByteArray, off: Int, len: Int) {
            out.write(b, off, len)
            feed(b, off, len)
        }
    }

    private fun indexOf(hay: ByteArray, needle: ByteArray): Int {
        outer@ for (i in 0..hay.size - needle.size) {
            for (j in needle.indices) if (hay[i + j] != needle[j]) continue@outer
            return i
        }
        return -1
    }

    private companion object {
        val HEADER_END = "\r\n\r\n".toByteArray(UTF_8)
    }
}
