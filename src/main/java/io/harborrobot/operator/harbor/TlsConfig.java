package io.harborrobot.operator.harbor;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;

/**
 * How a client checks Harbor's TLS certificate: the platform's trust store (the default, nothing to
 * apply), exactly the certificates of a PEM bundle, or nothing at all ({@code
 * insecureSkipTlsVerify}). Instances are immutable and shareable; sharing one between clients lets
 * OkHttp reuse pooled connections, because its pool keys connections by socket factory too.
 */
final class TlsConfig {

  private static final Pattern PEM_CERTIFICATE =
      Pattern.compile("-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", Pattern.DOTALL);
  private static final String BEGIN = "-----BEGIN CERTIFICATE-----";

  /** Trusts every certificate and every host name. Only for {@code insecureSkipTlsVerify}. */
  static final TlsConfig INSECURE = insecure();

  // One factory instance per configuration: SSLContext.getSocketFactory() returns a new object on
  // every call, and OkHttp would then never share pooled connections between clients.
  private final SSLSocketFactory socketFactory;
  private final X509TrustManager trustManager;
  private final HostnameVerifier hostnameVerifier;

  private TlsConfig(
      SSLContext sslContext, X509TrustManager trustManager, HostnameVerifier hostnameVerifier) {
    this.socketFactory = sslContext.getSocketFactory();
    this.trustManager = trustManager;
    this.hostnameVerifier = hostnameVerifier;
  }

  /**
   * Trusts exactly the certificates in {@code pem} (one or more {@code BEGIN CERTIFICATE} blocks;
   * text between blocks, as in many CA bundle files, is ignored). Host names are still verified.
   *
   * @throws IllegalArgumentException when the bundle holds no certificate or an unreadable one; the
   *     message never repeats the bundle's content
   */
  static TlsConfig trusting(String pem) {
    List<X509Certificate> certificates = parseCertificates(pem);
    try {
      KeyStore keyStore = KeyStore.getInstance(KeyStore.getDefaultType());
      keyStore.load(null, null);
      for (int i = 0; i < certificates.size(); i++) {
        keyStore.setCertificateEntry("ca-" + i, certificates.get(i));
      }
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(keyStore);
      X509TrustManager trustManager = null;
      for (TrustManager candidate : factory.getTrustManagers()) {
        if (candidate instanceof X509TrustManager x509) {
          trustManager = x509;
          break;
        }
      }
      if (trustManager == null) {
        throw new IllegalStateException("the platform offers no X.509 trust manager");
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {trustManager}, null);
      return new TlsConfig(context, trustManager, null);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build a trust store from the CA bundle", e);
    }
  }

  static List<X509Certificate> parseCertificates(String pem) {
    if (pem == null || pem.isBlank()) {
      throw new IllegalArgumentException("the CA bundle is empty");
    }
    CertificateFactory factory;
    try {
      factory = CertificateFactory.getInstance("X.509");
    } catch (CertificateException e) {
      throw new IllegalStateException("the platform has no X.509 certificate factory", e);
    }
    List<X509Certificate> certificates = new ArrayList<>();
    Matcher matcher = PEM_CERTIFICATE.matcher(pem);
    while (matcher.find()) {
      int number = certificates.size() + 1;
      try {
        byte[] der = Base64.getMimeDecoder().decode(matcher.group(1));
        certificates.add(
            (X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der)));
      } catch (IllegalArgumentException | CertificateException | ClassCastException e) {
        // No cause: it could quote bytes of the bundle.
        throw new IllegalArgumentException(
            "the CA bundle's certificate #" + number + " is not a valid PEM X.509 certificate");
      }
    }
    int begins = countOccurrences(pem, BEGIN);
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException(
          "the CA bundle holds no PEM certificate (expected -----BEGIN CERTIFICATE----- blocks)");
    }
    if (begins != certificates.size()) {
      throw new IllegalArgumentException(
          "the CA bundle has an unterminated certificate block after certificate #"
              + certificates.size());
    }
    return certificates;
  }

  private static int countOccurrences(String text, String needle) {
    int count = 0;
    for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length())) {
      count++;
    }
    return count;
  }

  /** Applies this configuration to a client builder. */
  OkHttpClient.Builder applyTo(OkHttpClient.Builder builder) {
    builder.sslSocketFactory(socketFactory, trustManager);
    if (hostnameVerifier != null) {
      builder.hostnameVerifier(hostnameVerifier);
    }
    return builder;
  }

  private static TlsConfig insecure() {
    X509TrustManager trustAll = new TrustAllManager();
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {trustAll}, null);
      return new TlsConfig(context, trustAll, (hostname, session) -> true);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot initialise TLS", e);
    }
  }

  /**
   * Accepts any server certificate. Extends {@link X509ExtendedTrustManager} so that the JDK does
   * not wrap it with its own endpoint checks.
   */
  private static final class TrustAllManager extends X509ExtendedTrustManager {
    private static final X509Certificate[] NONE = new X509Certificate[0];

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return NONE;
    }
  }
}
