import org.jetbrains.kotlin.gradle.dsl.JvmTarget
import org.jetbrains.kotlin.gradle.dsl.KotlinVersion

// Builds the plugin with the IntelliJ Platform Gradle Plugin 2.x, which
// downloads the IntelliJ Platform SDK: `gradle buildPlugin` (Gradle 8.13 or
// newer) writes build/distributions/pitlane-jetbrains-VERSION.zip, and
// `gradle runIde` starts a sandbox IDE with the plugin.

plugins {
    id("org.jetbrains.kotlin.jvm") version "2.2.21"
    id("org.jetbrains.intellij.platform") version "2.10.3"
}

group = "dev.pitlane"
version = providers.gradleProperty("pluginVersion").get()

repositories {
    mavenCentral()
    intellijPlatform {
        defaultRepositories()
    }
}

// The core's sources are part of the plugin; core/pom.xml builds and tests
// the same files without the SDK.
sourceSets {
    main {
        kotlin.srcDir("core/src/main/kotlin")
    }
}

dependencies {
    // Keep in step with core/pom.xml.
    implementation("org.eclipse.lsp4j:org.eclipse.lsp4j.jsonrpc:1.0.0")
    implementation("com.google.code.gson:gson:2.13.2")

    intellijPlatform {
        intellijIdeaCommunity(providers.gradleProperty("platformVersion"))
    }
}

kotlin {
    jvmToolchain(17)
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
        // The IDE's bundled Kotlin library is the one the plugin runs on.
        apiVersion.set(KotlinVersion.KOTLIN_2_0)
    }
}

intellijPlatform {
    pluginConfiguration {
        version = providers.gradleProperty("pluginVersion")
        ideaVersion {
            sinceBuild = providers.gradleProperty("pluginSinceBuild")
            untilBuild = provider { null }
        }
    }
}
