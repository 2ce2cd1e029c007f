package dev.pitlane.core

import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.util.concurrent.TimeUnit

/**
 * A running `pitlane bridge` child process and the [client] connected to its
 * stdin and stdout. The bridge's stderr (its log) goes line by line to the
 * `stderr` callback given to [start].
 */
class BridgeProcess private constructor(val process: Process, val client: BridgeClient) : AutoCloseable {
    val isAlive: Boolean get() = process.isAlive

    /**
     * Ends the bridge politely: shutdown and exit, then waits up to
     * [timeoutMillis] for the process to exit before killing it.
     */
    fun stop(timeoutMillis: Long = 5000) {
        if (process.isAlive) {
            try {
                client.shutdown().get(timeoutMillis, TimeUnit.MILLISECONDS)
            } catch (_: Exception) {
                // Not initialized, already gone or hung: closing stdin ends it too.
            }
            try {
                process.outputStream.close()
            } catch (_: Exception) {
            }
            if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
                process.destroy()
                if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) process.destroyForcibly()
            }
        }
        client.close()
    }

    override fun close() = stop()

    companion object {
        /**
         * Starts `BINARY bridge`. [environment] is added to this process's
         * environment (for example PITLANE_INSTANCE or XDG_DATA_HOME).
         */
        fun start(
            binary: Path,
            environment: Map<String, String> = emptyMap(),
            stderr: (String) -> Unit = {},
            tap: MessageTap? = null,
        ): BridgeProcess {
            val pb = ProcessBuilder(binary.toString(), "bridge")
            pb.environment().putAll(environment)
            pb.redirectError(ProcessBuilder.Redirect.PIPE)
            val process = try {
                pb.start()
            } catch (e: java.io.IOException) {
                throw BridgeClosedException("cannot start $binary bridge: ${e.message}; check the path to the pitlane binary in the settings", e)
            }
            val pump = Thread({
                process.errorStream.bufferedReader().useLines { lines -> lines.forEach { runCatching { stderr(it) } } }
            }, "pitlane-bridge-stderr")
            pump.isDaemon = true
            pump.start()
            return BridgeProcess(process, BridgeClient.connect(process.inputStream, process.outputStream, tap))
        }
    }
}

/** Finds the `pitlane` binary. */
object PitlaneBinary {
    private val isWindows = System.getProperty("os.name").orEmpty().startsWith("Windows")

    /** The file name of the binary on this system. */
    val fileName: String = if (isWindows) "pitlane.exe" else "pitlane"

    /**
     * The binary to run: [configured] when it is set (it must then be an
     * executable file), otherwise the first `pitlane` on [path] (the PATH
     * variable's value). Null when there is none.
     */
    fun resolve(configured: String?, path: String? = System.getenv("PATH")): Path? {
        if (!configured.isNullOrBlank()) {
            val p = Paths.get(configured.trim())
            return if (Files.isRegularFile(p) && Files.isExecutable(p)) p else null
        }
        return findOnPath(path)
    }

    /** The first executable `pitlane` in the directories of [path]. */
    fun findOnPath(path: String?): Path? {
        if (path.isNullOrEmpty()) return null
        for (dir in path.split(File.pathSeparatorChar)) {
            if (dir.isEmpty()) continue
            val p = try {
                Paths.get(dir, fileName)
            } catch (_: Exception) {
                continue
            }
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return p
        }
        return null
    }

    /** The message to show when [resolve] found nothing. */
    fun notFoundMessage(configured: String?): String =
        if (!configured.isNullOrBlank()) {
            "The Pitlane binary '$configured' does not exist or is not executable. Fix the path in Settings | Tools | Pitlane."
        } else {
            "Cannot find '$fileName' on PATH. Install Pitlane or set the path to the binary in Settings | Tools | Pitlane."
        }
}
