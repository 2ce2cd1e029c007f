package dev.pitlane.core

import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.api.Assumptions.assumeTrue
import java.nio.file.Files
import java.nio.file.Path
import java.util.UUID
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit

/**
 * An isolated Pitlane environment for tests against the real binary: its own
 * PITLANE_INSTANCE and data, config and home folders. [close] removes the
 * containers of the instance and the folders.
 */
class TestEnv(prefix: String) : AutoCloseable {
    val run: String = UUID.randomUUID().toString().take(8)
    val instance = "$prefix-$run"
    val dir: Path = Files.createTempDirectory("pitlane-$prefix-")
    val env: Map<String, String> = mapOf(
        "PITLANE_INSTANCE" to instance,
        "XDG_DATA_HOME" to Files.createDirectories(dir.resolve("data")).toString(),
        "XDG_CONFIG_HOME" to Files.createDirectories(dir.resolve("config")).toString(),
        "HOME" to Files.createDirectories(dir.resolve("home")).toString(),
    )

    /** Removes what the bridge could not: containers of this instance, then the folders. */
    override fun close() {
        runCatching {
            val p = ProcessBuilder("docker", "ps", "-aq", "--filter", "label=dev.pitlane.instance=$instance").start()
            val ids = p.inputStream.bufferedReader().readText().lines().filter { it.isNotBlank() }
            p.waitFor(30, TimeUnit.SECONDS)
            if (ids.isNotEmpty()) ProcessBuilder(listOf("docker", "rm", "-f") + ids).start().waitFor(60, TimeUnit.SECONDS)
        }
        dir.toFile().deleteRecursively()
    }

    companion object {
        /** The binary, or a skip (a failure under PITLANE_REQUIRE_DOCKER=1) when it is missing. */
        fun binaryOrSkip(): Path {
            val bin = Repo.binary
            if (!Files.isExecutable(bin)) {
                val msg = "no pitlane binary at $bin: build it with `go build -o bin/pitlane ./cmd/pitlane` or set PITLANE_BIN"
                if (Repo.requireDocker) fail<Unit>(msg)
                assumeTrue(false, msg)
            }
            return bin
        }

        /** Skips (fails under PITLANE_REQUIRE_DOCKER=1) when the bridge reports no Docker engine. */
        fun engineOrSkip(client: BridgeClient) {
            try {
                client.list().get(60, TimeUnit.SECONDS)
            } catch (e: ExecutionException) {
                val be = e.cause as? BridgeException
                if (be?.code == ErrorCodes.ENGINE_DOWN && !Repo.requireDocker) assumeTrue(false, "no Docker engine answers: ${be.message}")
                throw e
            }
        }
    }
}
