package peer;

import org.apache.dubbo.common.URL;
import org.apache.dubbo.remoting.ChannelHandler;
import org.apache.dubbo.remoting.RemotingException;
import org.apache.dubbo.remoting.api.pu.AbstractPortUnificationServer;
import org.apache.dubbo.remoting.transport.netty4.NettyPortUnificationServer;
import org.apache.dubbo.remoting.transport.netty4.NettyPortUnificationTransporter;

/**
 * Dubbo's netty4 port-unification transporter, but the Triple server listens on loopback only.
 *
 * Dubbo treats every `127.*` bind address as "any host" and binds 0.0.0.0; the IPv4-mapped
 * spelling of 127.0.0.1 is not caught by that check and still binds 127.0.0.1. Registered as
 * `netty4` in META-INF/dubbo (user extensions override Dubbo's internal ones).
 */
public class LoopbackTransporter extends NettyPortUnificationTransporter {
    static final String LOOPBACK = "::ffff:127.0.0.1";

    @Override
    public AbstractPortUnificationServer bind(URL url, ChannelHandler handler) throws RemotingException {
        URL loopback = url.addParameter("bind.ip", LOOPBACK).addParameter("anyhost", false);
        return new NettyPortUnificationServer(loopback, handler);
    }
}
